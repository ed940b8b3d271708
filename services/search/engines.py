"""Which engine this process searches with, chosen by configuration, and the nameko provider that hands it out."""

from functools import partial

from nameko.extensions import DependencyProvider

from services.search.elastic.engine import ElasticsearchEngine
from services.search.embedded.engine import EmbeddedEngine
from services.search.settings import SearchSettings

Engine = EmbeddedEngine | ElasticsearchEngine


def open_engine(settings: SearchSettings) -> Engine:
    """Elasticsearch when `SEARCH_ELASTICSEARCH_URL` is set, else the embedded engine; ready to use."""
    if settings.elasticsearch_url:
        engine = ElasticsearchEngine.connect(settings)
    else:
        engine = EmbeddedEngine(settings.database_url)
    engine.warm_up()
    return engine


class SearchEngine(DependencyProvider):
    """Gives each worker `unit_of_work()`, whose `index` is the SearchIndex port.

    In a worker started for an event (servicekit.consumer), the embedded engine records the
    event in its inbox in the same transaction as the index write, and a repeat raises
    AlreadyHandled; Elasticsearch refuses a repeat by its external version instead.
    """

    def setup(self) -> None:
        self.engine = open_engine(SearchSettings())

    def stop(self) -> None:
        self.engine.close()

    def kill(self) -> None:
        self.stop()

    def readiness_checks(self) -> dict[str, bool]:
        """Asked by servicekit.metrics's /readyz: a search replica whose index does not answer must get no traffic."""
        return {"search_engine": self.engine.answers()}

    def get_dependency(self, worker_ctx):
        handling = getattr(worker_ctx.entrypoint, "handling", lambda _ctx: None)(worker_ctx)
        return partial(self.engine.unit_of_work, handling=handling)
