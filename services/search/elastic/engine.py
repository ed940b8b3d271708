"""The Elasticsearch adapter of the search port.

Every write carries the aggregate version as an external version, so Elasticsearch itself
refuses an older or repeated event: no inbox is needed. A rebuild fills a new index behind the
`…-building` alias (writes go to both meanwhile), then one alias update makes it the live one.
"""

from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from uuid import UUID

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from contracts.events import EventEnvelope
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
from services.search.domain import IndividualAudience
from services.search.elastic.mappings import ASSOCIATION_MAPPINGS, INDEX_SETTINGS, INDIVIDUAL_MAPPINGS, IndexNames
from services.search.elastic.queries import association_search, individual_search, suggest_search

EXPORT_PAGE_SIZE = 1000
LIVE_INDIVIDUALS = {"term": {"removed": False}}


class ElasticsearchEngine:
    """What a process holds for Elasticsearch: one client (a connection pool) and the index names."""

    def __init__(self, client: Elasticsearch, *, names: IndexNames, refresh: bool = False):
        self.client = client
        self.names = names
        # Tests refresh after each write so that it is searchable at once; the service leaves it to the cluster.
        self.refresh = refresh

    @classmethod
    def connect(cls, url: str, *, index_prefix: str, refresh: bool = False) -> "ElasticsearchEngine":
        client = Elasticsearch(url, request_timeout=5, max_retries=2)
        return cls(client, names=IndexNames(index_prefix), refresh=refresh)

    def warm_up(self) -> None:
        """Create the indices under their aliases if they are not there yet."""
        for alias, mappings in (
            (self.names.associations, ASSOCIATION_MAPPINGS),
            (self.names.individuals, INDIVIDUAL_MAPPINGS),
        ):
            if not self.client.indices.exists_alias(name=alias):
                create_index(self.client, self.names.first_index(alias), mappings, alias=alias, exist_ok=True)

    def unit_of_work(self, handling: tuple[str, EventEnvelope] | None = None) -> "ElasticsearchWork":
        """`handling` is not recorded: external versions make a repeated event change nothing."""
        return ElasticsearchWork(ElasticsearchIndex(self.client, self.names, refresh=self.refresh))

    def close(self) -> None:
        self.client.close()


def create_index(client: Elasticsearch, name: str, mappings: dict, *, alias: str, exist_ok: bool = False) -> None:
    try:
        client.indices.create(index=name, settings=INDEX_SETTINGS, mappings=mappings, aliases={alias: {}})
    except ApiError as exc:
        if not (exist_ok and exc.error == "resource_already_exists_exception"):
            raise


class ElasticsearchWork:
    """The unit of work's shape, for handlers written once for both engines; there is no transaction."""

    def __init__(self, index: "ElasticsearchIndex"):
        self.index = index

    def __enter__(self) -> "ElasticsearchWork":
        return self

    def __exit__(self, *exc_info) -> None:
        return None


class ElasticsearchIndex:
    """The SearchIndex and RebuildableIndex ports over the Elasticsearch client."""

    def __init__(self, client: Elasticsearch, names: IndexNames, *, refresh: bool = False):
        self.client = client
        self.names = names
        # None leaves refreshing to the cluster (the client then sends no `refresh` at all).
        self.refresh = True if refresh else None

    # Associations -----------------------------------------------------------------------------------------

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        stored = self._bulk_put([(self.names.associations, document, version)], building_too=True)
        return stored[0]

    def remove_association(self, association_id: UUID) -> None:
        with suppress(NotFoundError):
            self.client.delete(index=self.names.associations, id=str(association_id), refresh=self.refresh)

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults:
        found = self.client.search(index=self.names.associations, **association_search(query, public_only=public_only))
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
        found = self.client.search(index=self.names.associations, **suggest_search(query))
        return Suggestions(
            items=[AssociationDocument.model_validate(hit["_source"]).suggestion() for hit in found["hits"]["hits"]]
        )

    # Rebuilding ---------------------------------------------------------------------------------------------

    def begin_rebuild(self) -> None:
        self._begin_rebuild(self.names.associations, self.names.associations_building, ASSOCIATION_MAPPINGS)

    def put_rebuilt_associations(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        self._bulk_put([(self.names.associations_building, document, version) for document, version in documents])

    def finish_rebuild(self) -> None:
        self._finish_rebuild(self.names.associations, self.names.associations_building)

    def association_count(self) -> int:
        return self.client.count(index=self.names.associations)["count"]

    def stored_associations(self) -> Iterator[tuple[AssociationDocument, int]]:
        for hit in self._every(self.names.associations, {"match_all": {}}, exclude="public"):
            yield AssociationDocument.model_validate(hit["_source"]), hit["_version"]

    # Individuals ---------------------------------------------------------------------------------------------

    def put_individual(self, document: IndividualDocument, *, version: int) -> bool:
        return self._put_individual(document.id, _individual_source(document), version)

    def remove_individual(self, individual_id: UUID, *, version: int) -> bool:
        """Kept as a bare tombstone, because Elasticsearch forgets a deleted document's version after a minute."""
        return self._put_individual(individual_id, {"id": str(individual_id), "removed": True}, version)

    def search_individuals(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        found = self.client.search(index=self.names.individuals, **individual_search(query, audience))
        return IndividualResults(
            total=found["hits"]["total"]["value"],
            items=[IndividualDocument.model_validate(hit["_source"]).hit() for hit in found["hits"]["hits"]],
        )

    def begin_individual_rebuild(self) -> None:
        """A new index behind the building alias, given the live one's tombstones with their versions."""
        self._begin_rebuild(self.names.individuals, self.names.individuals_building, INDIVIDUAL_MAPPINGS)
        self.client.reindex(
            source={"index": self.names.individuals, "query": {"term": {"removed": True}}},
            dest={"index": self.names.individuals_building, "version_type": "external"},
            conflicts="proceed",
            wait_for_completion=True,
            refresh=self.refresh,
        )

    def put_rebuilt_individuals(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        if not documents:
            return
        operations = []
        for document, version in documents:
            operations += [
                _index_action(self.names.individuals_building, document.id, version),
                _individual_source(document),
            ]
        for item in self.client.bulk(operations=operations, refresh=self.refresh)["items"]:
            _stored(item["index"])

    def finish_individual_rebuild(self) -> None:
        self._finish_rebuild(self.names.individuals, self.names.individuals_building)

    def individual_count(self) -> int:
        return self.client.count(index=self.names.individuals, query=LIVE_INDIVIDUALS)["count"]

    def stored_individuals(self) -> Iterator[tuple[IndividualDocument, int]]:
        for hit in self._every(self.names.individuals, LIVE_INDIVIDUALS, exclude="removed"):
            yield IndividualDocument.model_validate(hit["_source"]), hit["_version"]

    # Inside ---------------------------------------------------------------------------------------------------

    def _put_individual(self, individual_id: UUID, source: dict, version: int) -> bool:
        """To the live index and, while a rebuild runs, the rebuilt one; True if the live one took it."""
        operations = [
            _index_action(self.names.individuals, individual_id, version),
            source,
            _index_action(self.names.individuals_building, individual_id, version),
            source,
        ]
        live, building = self.client.bulk(operations=operations, refresh=self.refresh)["items"]
        _stored(building["index"], missing_alias_is_fine=True)
        return _stored(live["index"])

    def _every(self, index: str, query: dict, *, exclude: str) -> Iterator[dict]:
        """Every hit of the query with its version, a page at a time in id order."""
        after = None
        while True:
            page = self.client.search(
                index=index,
                query=query,
                sort=[{"id": "asc"}],
                size=EXPORT_PAGE_SIZE,
                search_after=after,
                version=True,
                source_excludes=[exclude],
            )["hits"]["hits"]
            yield from page
            if len(page) < EXPORT_PAGE_SIZE:
                return
            after = page[-1]["sort"]

    def _begin_rebuild(self, alias: str, building_alias: str, mappings: dict) -> None:
        """An unfinished earlier rebuild is discarded; the new index is named after the alias it will serve."""
        self._delete_indices_behind(building_alias)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        create_index(self.client, f"{alias}-{stamp}", mappings, alias=building_alias)

    def _finish_rebuild(self, alias: str, building_alias: str) -> None:
        [rebuilt] = self._indices_behind(building_alias)
        old = self._indices_behind(alias)
        self.client.indices.refresh(index=rebuilt)
        self.client.indices.update_aliases(
            actions=[{"remove": {"index": index, "alias": alias}} for index in old]
            + [
                {"add": {"index": rebuilt, "alias": alias}},
                {"remove": {"index": rebuilt, "alias": building_alias}},
            ]
        )
        for index in old:
            self.client.indices.delete(index=index)

    def _put_versioned(self, index: str, document_id: UUID, source: dict, version: int) -> bool:
        operations = [_index_action(index, document_id, version), source]
        [item] = self.client.bulk(operations=operations, refresh=self.refresh)["items"]
        return _stored(item["index"])

    def _bulk_put(
        self, writes: list[tuple[str, AssociationDocument, int]], *, building_too: bool = False
    ) -> list[bool]:
        """Whether each write was stored; while a rebuild runs, the same writes also go to the rebuilt index."""
        operations = []
        for index, document, version in writes:
            source = document.model_dump(mode="json") | {"public": document.public}
            operations += [_index_action(index, document.id, version), source]
            if building_too:
                operations += [_index_action(self.names.associations_building, document.id, version), source]
        items = self.client.bulk(operations=operations, refresh=self.refresh)["items"]
        if building_too:
            for building in items[1::2]:
                _stored(building["index"], missing_alias_is_fine=True)
            items = items[::2]
        return [_stored(item["index"]) for item in items]

    def _indices_behind(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def _delete_indices_behind(self, alias: str) -> None:
        for index in self._indices_behind(alias):
            self.client.indices.delete(index=index)


def _individual_source(document: IndividualDocument) -> dict:
    return document.model_dump(mode="json") | {"removed": False}


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


class BulkWriteFailed(Exception):
    """Elasticsearch refused a write for a reason other than holding a newer version."""


def _stored(result: dict, *, missing_alias_is_fine: bool = False) -> bool:
    """True if written; False if a newer (or the same) version was there; raises on any other failure."""
    status = result["status"]
    if status in (200, 201):
        return True
    if status == 409 or (missing_alias_is_fine and status == 404):
        return False
    raise BulkWriteFailed(f"Elasticsearch refused to index {result.get('_id')}: {result.get('error')}")
