"""The SearchIndex and RebuildableIndex ports over the Elasticsearch client."""

import logging
from collections.abc import Iterator
from uuid import UUID

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from contracts.errors import Unavailable
from contracts.search import (
    AssociationQuery,
    AssociationResults,
    Facets,
    IndividualQuery,
    IndividualResults,
    Suggestions,
    SuggestQuery,
)
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import Clock, IndividualAudience
from services.search.elastic.mappings import ASSOCIATION_MAPPINGS, INDIVIDUAL_MAPPINGS, IndexNames
from services.search.elastic.queries import association_search, individual_search, suggest_search
from services.search.elastic.rebuilds import Rebuild
from services.search.elastic.sources import (
    ASSOCIATION_EXTRAS,
    INDIVIDUAL_EXTRAS,
    association_source,
    individual_source,
    removal_source,
)

log = logging.getLogger(__name__)

EXPORT_PAGE_SIZE = 1000
LIVE_INDIVIDUALS = {"term": {"removed": False}}
EXPENSIVE_QUERIES_REFUSED = (
    "search cannot forgive typos here: the Elasticsearch cluster refuses fuzzy queries"
    " (search.allow_expensive_queries is false)"
)


class BulkWriteFailed(Exception):
    """Elasticsearch refused a write for a reason other than holding a newer version."""


class ElasticsearchIndex:
    """`client` answers searches and event writes quickly; `maintenance` (the same connections, a long timeout)
    creates, fills, switches and reads whole indices."""

    def __init__(
        self,
        client: Elasticsearch,
        maintenance: Elasticsearch,
        names: IndexNames,
        *,
        refresh: bool = False,
        clock: Clock,
    ):
        self.client = client
        self.clock = clock
        self.maintenance = maintenance
        self.names = names
        # None leaves refreshing to the cluster (the client then sends no `refresh` at all).
        self.refresh = True if refresh else None
        self.association_rebuild = Rebuild(
            maintenance,
            names,
            kind="associations",
            alias=names.associations,
            building_alias=names.associations_building,
            clock=clock,
        )
        self.individual_rebuild = Rebuild(
            maintenance,
            names,
            kind="individuals",
            alias=names.individuals,
            building_alias=names.individuals_building,
            clock=clock,
        )

    # Associations -----------------------------------------------------------------------------------------

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        aliases = (self.names.associations, self.names.associations_building)
        return self._put_live_and_building(aliases, document.id, association_source(document), version)

    def remove_association(self, association_id: UUID) -> None:
        try:
            self.maintenance.delete(index=self.names.associations, id=str(association_id), refresh=self.refresh)
        except NotFoundError:
            return

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults:
        found = self._search(
            index=self.names.associations, **association_search(query, public_only=public_only, now=self.clock())
        )
        aggregations = found["aggregations"]
        return AssociationResults(
            total=found["hits"]["total"]["value"],
            items=[AssociationDocument.model_validate(hit["_source"]).hit(query.near) for hit in found["hits"]["hits"]],
            facets=Facets(
                **{
                    name: {bucket["key"]: bucket["doc_count"] for bucket in aggregations[name]["buckets"]}
                    for name in ("country", "language", "category")
                }
            ),
        )

    def suggest_associations(self, query: SuggestQuery) -> Suggestions:
        found = self._search(index=self.names.associations, **suggest_search(query, now=self.clock()))
        return Suggestions(
            items=[AssociationDocument.model_validate(hit["_source"]).suggestion() for hit in found["hits"]["hits"]]
        )

    def begin_rebuild(self) -> None:
        self.association_rebuild.begin(ASSOCIATION_MAPPINGS)

    def put_rebuilt_associations(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        self._put_rebuilt(
            self.association_rebuild,
            [(document.id, association_source(document), version) for document, version in documents],
        )

    def finish_rebuild(self) -> None:
        self.association_rebuild.finish()

    def association_count(self) -> int:
        return self.maintenance.count(index=self.names.associations)["count"]

    def stored_associations(self) -> Iterator[tuple[AssociationDocument, int]]:
        for hit in self._every(self.names.associations, {"match_all": {}}, exclude=ASSOCIATION_EXTRAS):
            yield AssociationDocument.model_validate(hit["_source"]), hit["_version"]

    # Individuals ---------------------------------------------------------------------------------------------

    def put_individual(self, document: IndividualDocument, *, version: int) -> bool:
        aliases = (self.names.individuals, self.names.individuals_building)
        return self._put_live_and_building(aliases, document.id, individual_source(document), version)

    def remove_individual(self, individual_id: UUID, *, version: int) -> bool:
        aliases = (self.names.individuals, self.names.individuals_building)
        return self._put_live_and_building(aliases, individual_id, removal_source(individual_id), version)

    def search_individuals(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        found = self._search(index=self.names.individuals, **individual_search(query, audience))
        return IndividualResults(
            total=found["hits"]["total"]["value"],
            items=[IndividualDocument.model_validate(hit["_source"]).hit() for hit in found["hits"]["hits"]],
        )

    def begin_individual_rebuild(self) -> None:
        """A new index behind the building alias, given the live one's tombstones with their versions."""
        self.individual_rebuild.begin(INDIVIDUAL_MAPPINGS)
        copied = self.maintenance.reindex(
            source={"index": self.names.individuals, "query": {"term": {"removed": True}}},
            dest={"index": self.names.individuals_building, "version_type": "external"},
            conflicts="proceed",
            require_alias=True,
            wait_for_completion=True,
            refresh=self.refresh,
        )
        failures, timed_out = copied.body.get("failures"), copied.body.get("timed_out")
        if failures or timed_out:
            raise BulkWriteFailed(
                f"copying the removed individuals into the rebuilt index failed: {failures or 'it timed out'}"
            )

    def put_rebuilt_individuals(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        self._put_rebuilt(
            self.individual_rebuild,
            [(document.id, individual_source(document), version) for document, version in documents],
        )

    def finish_individual_rebuild(self) -> None:
        self.individual_rebuild.finish()

    def individual_count(self) -> int:
        return self.maintenance.count(index=self.names.individuals, query=LIVE_INDIVIDUALS)["count"]

    def stored_individuals(self) -> Iterator[tuple[IndividualDocument, int]]:
        for hit in self._every(self.names.individuals, LIVE_INDIVIDUALS, exclude=INDIVIDUAL_EXTRAS):
            yield IndividualDocument.model_validate(hit["_source"]), hit["_version"]

    # Inside ---------------------------------------------------------------------------------------------------

    def _search(self, **request) -> dict:
        """A cluster that refuses fuzzy queries is a configuration to change, said plainly, not a failure."""
        try:
            return self.client.search(**request)
        except ApiError as exc:
            if "allow_expensive_queries" not in str(exc.body):
                raise
            log.error(
                "Elasticsearch refuses fuzzy queries, so typo tolerance cannot work: set the cluster setting"
                " search.allow_expensive_queries to true (services/search/README.md)"
            )
            raise Unavailable(EXPENSIVE_QUERIES_REFUSED) from exc

    def _put_live_and_building(self, aliases: tuple[str, str], document_id: UUID, source: dict, version: int) -> bool:
        """To the live index and, while a rebuild runs, the rebuilt one; True if the live one took it."""
        operations = []
        for alias in aliases:
            operations += [_index_action(alias, document_id, version), source]
        live, building = self.client.bulk(operations=operations, refresh=self.refresh)["items"]
        _stored(building["index"], missing_alias_is_fine=True)
        return _stored(live["index"])

    def _put_rebuilt(self, rebuild: Rebuild, writes: list[tuple[UUID, dict, int]]) -> None:
        """Each unless a newer version is there already, and the rebuild held; an empty batch sends nothing
        (Elasticsearch refuses an empty bulk request)."""
        if not writes:
            return
        rebuild.hold()
        operations = []
        for document_id, source, version in writes:
            operations += [_index_action(rebuild.building_alias, document_id, version), source]
        for item in self.maintenance.bulk(operations=operations, refresh=self.refresh)["items"]:
            _stored(item["index"])

    def _every(self, index: str, query: dict, *, exclude: list[str]) -> Iterator[dict]:
        """Every hit of the query with its version, a page at a time in id order."""
        after = None
        while True:
            page = self.maintenance.search(
                index=index,
                query=query,
                sort=[{"id": "asc"}],
                size=EXPORT_PAGE_SIZE,
                search_after=after,
                version=True,
                source_excludes=exclude,
            )["hits"]["hits"]
            yield from page
            if len(page) < EXPORT_PAGE_SIZE:
                return
            after = page[-1]["sort"]


def _index_action(index: str, document_id: UUID, version: int) -> dict:
    # require_alias: a write to a missing alias must fail, not create an index of that name.
    return {
        "index": {
            "_index": index,
            "_id": str(document_id),
            "version": version,
            "version_type": "external",
            "require_alias": True,
        }
    }


def _stored(result: dict, *, missing_alias_is_fine: bool = False) -> bool:
    """True if written; False if a newer (or the same) version was there; raises on any other failure."""
    status = result["status"]
    if status in (200, 201):
        return True
    if status == 409 or (missing_alias_is_fine and status == 404):
        return False
    raise BulkWriteFailed(f"Elasticsearch refused to index {result.get('_id')}: {result.get('error')}")
