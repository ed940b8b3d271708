"""The Elasticsearch engine a process holds: one client, connected as configured, and the index names.

Every write carries the aggregate version as an external version, so Elasticsearch itself
refuses an older or repeated event: no inbox is needed.
"""

import logging

from elasticsearch import ApiError, Elasticsearch, TransportError

from contracts.events import EventEnvelope
from services.search.domain import Clock, system_clock
from services.search.elastic.index import ElasticsearchIndex
from services.search.elastic.mappings import ASSOCIATION_MAPPINGS, INDIVIDUAL_MAPPINGS, IndexNames
from services.search.elastic.rebuilds import create_index
from services.search.settings import SearchSettings

log = logging.getLogger(__name__)

# Searches and event writes: the caller's RPC gives up after 5 s anyway.
REQUEST_TIMEOUT_SECONDS = 5
# Readiness: the cluster waits this long for our indices' health, the client a little longer for its answer.
HEALTH_TIMEOUT_SECONDS = 2
# Creating indices, switching aliases, reindexing tombstones, rebuilding and exporting (diasporahub search …).
MAINTENANCE_TIMEOUT_SECONDS = 600


class ElasticsearchEngine:
    def __init__(self, client: Elasticsearch, *, names: IndexNames, refresh: bool = False, clock: Clock = system_clock):
        self.client = client
        self.maintenance = client.options(request_timeout=MAINTENANCE_TIMEOUT_SECONDS)
        self.names = names
        # Tests refresh after each write so that it is searchable at once; the service leaves it to the cluster.
        self.refresh = refresh
        self.clock = clock

    @classmethod
    def connect(
        cls, settings: SearchSettings, *, refresh: bool = False, clock: Clock = system_clock
    ) -> "ElasticsearchEngine":
        """To `SEARCH_ELASTICSEARCH_URL`, signed in and trusting the certificate as the settings say."""
        client = Elasticsearch(
            settings.elasticsearch_url,
            request_timeout=REQUEST_TIMEOUT_SECONDS,
            max_retries=2,
            **settings.elasticsearch_options(),
        )
        return cls(client, names=IndexNames(settings.elasticsearch_index_prefix), refresh=refresh, clock=clock)

    def warm_up(self) -> None:
        """Create the indices under their aliases if they are not there yet."""
        for alias, mappings in (
            (self.names.associations, ASSOCIATION_MAPPINGS),
            (self.names.individuals, INDIVIDUAL_MAPPINGS),
        ):
            if not self.maintenance.indices.exists_alias(name=alias):
                create_index(self.maintenance, self.names.first_index(alias), mappings, alias=alias, exist_ok=True)

    def answers(self) -> bool:
        """Readiness: the health of our two indices (their aliases), not the whole cluster's, so that another
        application's red index on a shared cluster does not stop search. Yellow (replicas not yet allocated, as on a
        single node) still answers every search; red means some of our documents cannot be searched. No retry: the probe
        asks again anyway."""
        try:
            health = self.client.options(request_timeout=HEALTH_TIMEOUT_SECONDS + 1, max_retries=0).cluster.health(
                index=[self.names.associations, self.names.individuals], timeout=f"{HEALTH_TIMEOUT_SECONDS}s"
            )
        except (ApiError, TransportError) as exc:
            log.warning("readiness: Elasticsearch's health could not be read: %s", exc)
            return False
        if health["status"] not in ("green", "yellow"):
            log.warning("readiness: our Elasticsearch indices are %s", health["status"])
            return False
        return True

    def unit_of_work(self, handling: tuple[str, EventEnvelope] | None = None) -> "ElasticsearchWork":
        """`handling` is not recorded: external versions make a repeated event change nothing."""
        index = ElasticsearchIndex(self.client, self.maintenance, self.names, refresh=self.refresh, clock=self.clock)
        return ElasticsearchWork(index)

    def close(self) -> None:
        self.client.close()


class ElasticsearchWork:
    """The unit of work's shape, for handlers written once for both engines; there is no transaction."""

    def __init__(self, index: ElasticsearchIndex):
        self.index = index

    def __enter__(self) -> "ElasticsearchWork":
        return self

    def __exit__(self, *exc_info) -> None:
        return None
