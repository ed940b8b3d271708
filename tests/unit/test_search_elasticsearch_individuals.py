"""Rebuilding the individual index in Elasticsearch, without a cluster: the exact requests it sends.

The recording node of test_search_elasticsearch.py stands in for the cluster.
"""

from uuid import UUID

import pytest
from elasticsearch import Elasticsearch

from services.search.documents import IndividualDocument
from services.search.elastic.engine import BulkWriteFailed, ElasticsearchIndex
from services.search.elastic.mappings import INDEX_SETTINGS, INDIVIDUAL_MAPPINGS, IndexNames
from tests.unit.test_search_elasticsearch import Cluster, bulk_answer

FIRST_ID = UUID("0b7f0c3e-52f4-4d1d-8a60-7e4de3d7c2a9")
SECOND_ID = UUID("5c0e2a4b-1d2f-4e3a-9b8c-7d6e5f4a3b2c")


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def index(cluster) -> ElasticsearchIndex:
    client = Elasticsearch("http://elasticsearch.test:9200", node_class=cluster.node_class())
    return ElasticsearchIndex(client, IndexNames("dh-"))


def individual(individual_id: UUID, name: str) -> IndividualDocument:
    return IndividualDocument(
        id=individual_id, name=name, country="SG", city="Singapore", languages=["lus"], visibility="public"
    )


def action(index_name: str, individual_id: UUID, version: int) -> dict:
    return {
        "index": {
            "_index": index_name,
            "_id": str(individual_id),
            "version": version,
            "version_type": "external",
            "require_alias": True,
        }
    }


def test_a_rebuild_begins_with_a_new_index_given_the_live_ones_tombstones_with_their_versions(cluster, index):
    cluster.answers = [
        (200, {"dh-individuals-20260101": {"aliases": {"dh-individuals-building": {}}}}),
        (200, {"acknowledged": True}),
        (200, {"acknowledged": True}),
        (200, {"took": 3, "created": 2, "version_conflicts": 0}),
    ]

    index.begin_individual_rebuild()

    assert cluster.requests[:2] == [
        ("GET", "/_alias/dh-individuals-building", None),
        ("DELETE", "/dh-individuals-20260101", None),
    ]
    method, target, body = cluster.requests[2]
    assert (method, body) == (
        "PUT",
        {"aliases": {"dh-individuals-building": {}}, "mappings": INDIVIDUAL_MAPPINGS, "settings": INDEX_SETTINGS},
    )
    assert target.startswith("/dh-individuals-2")
    assert cluster.requests[3] == (
        "POST",
        "/_reindex?wait_for_completion=true",
        {
            "conflicts": "proceed",
            "source": {"index": "dh-individuals", "query": {"term": {"removed": True}}},
            "dest": {"index": "dh-individuals-building", "version_type": "external"},
        },
    )


def test_rebuilt_individuals_go_to_the_building_alias_with_their_external_versions(cluster, index):
    cluster.answers = [(200, bulk_answer(201, 409))]

    index.put_rebuilt_individuals([(individual(FIRST_ID, "Lalremruati"), 2), (individual(SECOND_ID, "Zothansangi"), 1)])

    assert cluster.requests == [
        (
            "PUT",
            "/_bulk",
            [
                action("dh-individuals-building", FIRST_ID, 2),
                individual(FIRST_ID, "Lalremruati").model_dump(mode="json") | {"removed": False},
                action("dh-individuals-building", SECOND_ID, 1),
                individual(SECOND_ID, "Zothansangi").model_dump(mode="json") | {"removed": False},
            ],
        )
    ]


def test_a_rebuilt_individual_refused_for_another_reason_than_a_newer_version_fails(cluster, index):
    cluster.answers = [(200, bulk_answer(429))]

    with pytest.raises(BulkWriteFailed):
        index.put_rebuilt_individuals([(individual(FIRST_ID, "Lalremruati"), 1)])


def test_an_empty_batch_sends_nothing(cluster, index):
    index.put_rebuilt_individuals([])

    assert cluster.requests == []


def test_stored_individuals_leave_tombstones_out_and_come_with_their_versions(cluster, index):
    source = individual(FIRST_ID, "Lalremruati").model_dump(mode="json")
    cluster.answers = [(200, {"hits": {"total": {"value": 1}, "hits": [{"_source": source, "_version": 3}]}})]

    assert list(index.stored_individuals()) == [(individual(FIRST_ID, "Lalremruati"), 3)]

    assert cluster.requests == [
        (
            "POST",
            "/dh-individuals/_search?_source_excludes=removed",
            {"query": {"term": {"removed": False}}, "sort": [{"id": "asc"}], "size": 1000, "version": True},
        )
    ]


def test_the_individual_count_leaves_tombstones_out(cluster, index):
    cluster.answers = [(200, {"count": 7})]

    assert index.individual_count() == 7

    assert cluster.requests == [("POST", "/dh-individuals/_count", {"query": {"term": {"removed": False}}})]
