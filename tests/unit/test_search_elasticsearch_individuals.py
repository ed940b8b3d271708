"""Rebuilding the individual index in Elasticsearch, without a cluster: the exact requests it sends.

The recording node of test_search_elasticsearch.py stands in for the cluster.
"""

from uuid import UUID

import pytest

from services.search.documents import IndividualDocument
from services.search.elastic.index import BulkWriteFailed, ElasticsearchIndex
from services.search.elastic.mappings import INDEX_SETTINGS, INDIVIDUAL_MAPPINGS
from services.search.elastic.sources import individual_source
from tests.unit.test_search_elasticsearch import Cluster
from tests.unit.test_search_elasticsearch_writes import action, bulk_answer

FIRST_ID = UUID("0b7f0c3e-52f4-4d1d-8a60-7e4de3d7c2a9")
SECOND_ID = UUID("5c0e2a4b-1d2f-4e3a-9b8c-7d6e5f4a3b2c")
REINDEXED = {"took": 3, "timed_out": False, "created": 2, "version_conflicts": 0, "failures": []}


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def index(cluster) -> ElasticsearchIndex:
    return cluster.index()


def individual(individual_id: UUID, name: str) -> IndividualDocument:
    return IndividualDocument(
        id=individual_id, name=name, country="SG", city="Singapore", languages=["lus"], visibility="public"
    )


def begun(reindexed: dict) -> list[tuple[int, dict]]:
    """Answers to beginning a rebuild whose abandoned predecessor left an index behind, then to the reindex."""
    return [
        (200, {"acknowledged": True}),
        (201, {"result": "created"}),
        (200, {"dh-individuals-20260101": {"aliases": {"dh-individuals-building": {}}}}),
        (200, {"acknowledged": True}),
        (200, {"acknowledged": True}),
        (200, reindexed),
    ]


def test_a_rebuild_begins_with_a_new_index_given_the_live_ones_tombstones_with_their_versions(cluster, index):
    cluster.answers = begun(REINDEXED)

    index.begin_individual_rebuild()

    assert cluster.requests[2:4] == [
        ("GET", "/_alias/dh-individuals-building", None),
        ("DELETE", "/dh-individuals-20260101", None),
    ]
    method, target, body = cluster.requests[4]
    assert (method, body) == (
        "PUT",
        {"aliases": {"dh-individuals-building": {}}, "mappings": INDIVIDUAL_MAPPINGS, "settings": INDEX_SETTINGS},
    )
    assert target.startswith("/dh-individuals-2")
    assert cluster.requests[5] == (
        "POST",
        "/_reindex?require_alias=true&wait_for_completion=true",
        {
            "conflicts": "proceed",
            "source": {"index": "dh-individuals", "query": {"term": {"removed": True}}},
            "dest": {"index": "dh-individuals-building", "version_type": "external"},
        },
    )
    assert set(cluster.timeouts) == {600}


@pytest.mark.parametrize(
    "reindexed",
    [
        REINDEXED | {"failures": [{"index": "dh-individuals-building", "id": "x", "status": 429}]},
        REINDEXED | {"timed_out": True},
    ],
)
def test_a_tombstone_copy_that_failed_or_timed_out_fails_the_rebuild(cluster, index, reindexed):
    cluster.answers = begun(reindexed)

    with pytest.raises(BulkWriteFailed, match="copying the removed individuals into the rebuilt index failed"):
        index.begin_individual_rebuild()


def test_rebuilt_individuals_go_to_the_building_alias_with_their_external_versions(cluster, index):
    cluster.answers = [(200, {"result": "updated"}), (200, bulk_answer(201, 409))]
    first, second = individual(FIRST_ID, "Lalremruati"), individual(SECOND_ID, "Zothansangi")

    index.put_rebuilt_individuals([(first, 2), (second, 1)])

    assert cluster.requests[1] == (
        "PUT",
        "/_bulk",
        [
            action("dh-individuals-building", FIRST_ID, 2),
            individual_source(first),
            action("dh-individuals-building", SECOND_ID, 1),
            individual_source(second),
        ],
    )


def test_a_rebuilt_individual_refused_for_another_reason_than_a_newer_version_fails(cluster, index):
    cluster.answers = [(200, {"result": "updated"}), (200, bulk_answer(429))]

    with pytest.raises(BulkWriteFailed):
        index.put_rebuilt_individuals([(individual(FIRST_ID, "Lalremruati"), 1)])


def test_stored_individuals_leave_tombstones_out_and_come_with_their_versions(cluster, index):
    source = individual(FIRST_ID, "Lalremruati").model_dump(mode="json")
    cluster.answers = [(200, {"hits": {"total": {"value": 1}, "hits": [{"_source": source, "_version": 3}]}})]

    assert list(index.stored_individuals()) == [(individual(FIRST_ID, "Lalremruati"), 3)]

    assert cluster.requests == [
        (
            "POST",
            "/dh-individuals/_search?_source_excludes=removed,words,sort_name",
            {"query": {"term": {"removed": False}}, "sort": [{"id": "asc"}], "size": 1000, "version": True},
        )
    ]


def test_the_individual_count_leaves_tombstones_out(cluster, index):
    cluster.answers = [(200, {"count": 7})]

    assert index.individual_count() == 7

    assert cluster.requests == [("POST", "/dh-individuals/_count", {"query": {"term": {"removed": False}}})]
