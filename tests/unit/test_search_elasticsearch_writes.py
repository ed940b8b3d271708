"""Writing to Elasticsearch without a cluster: each document with its external version, its words and sort key
worked out in Python, to the live index and to the one being rebuilt."""

import pytest

from services.search.documents import IndividualDocument
from services.search.elastic.index import BulkWriteFailed, ElasticsearchIndex
from tests.unit.test_search_elasticsearch import ASSOCIATION_ID, INDIVIDUAL_ID, Cluster, association


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def index(cluster) -> ElasticsearchIndex:
    return cluster.index()


def bulk_answer(*statuses: int) -> dict:
    return {
        "errors": any(s >= 300 for s in statuses),
        "items": [{"index": {"_id": "x", "status": s}} for s in statuses],
    }


def action(index: str, document_id, version: int) -> dict:
    return {
        "index": {
            "_index": index,
            "_id": str(document_id),
            "version": version,
            "version_type": "external",
            "require_alias": True,
        }
    }


def test_an_association_is_written_with_its_words_and_external_version_to_the_live_and_the_rebuilt_index(
    cluster, index
):
    cluster.answers = [(200, bulk_answer(201, 404))]
    document = association(
        name="Ṭhalai Mizo Fellowship",
        alternate_names=["मिज़ो समाज", "TMF"],
        office_bearer_names=["Lalthansanga Ralte"],
        description="Sunday fellowship; help for new arrivals.",
    )

    assert index.put_association(document, version=3) is True

    source = document.model_dump(mode="json") | {
        "public": True,
        "words": {
            "name": "thalai mizo fellowship",
            "alternate_names": "मिजो समाज tmf",
            "city": "singapore",
            "office_bearer_names": "lalthansanga ralte",
            "description": "sunday fellowship help for new arrivals",
        },
        "sort_name": "thalai mizo fellowship",
    }
    assert cluster.requests == [
        (
            "PUT",
            "/_bulk",
            [
                action("dh-associations", ASSOCIATION_ID, 3),
                source,
                action("dh-associations-building", ASSOCIATION_ID, 3),
                source,
            ],
        )
    ]
    assert cluster.timeouts == [5]


def test_registration_time_is_sent_to_the_microsecond(cluster, index):
    cluster.answers = [(200, bulk_answer(201, 404))]

    index.put_association(association(registered_at="2026-01-01T00:00:00.000400Z"), version=1)

    assert cluster.requests[0][2][1]["registered_at"] == "2026-01-01T00:00:00.000400Z"


def test_a_version_conflict_means_a_newer_version_is_kept(cluster, index):
    cluster.answers = [(200, bulk_answer(409, 404))]

    assert index.put_association(association(), version=1) is False


def test_any_other_refusal_fails_so_the_event_is_retried(cluster, index):
    cluster.answers = [(200, bulk_answer(429, 404))]

    with pytest.raises(BulkWriteFailed):
        index.put_association(association(), version=1)


def test_a_removed_individual_stays_as_a_versioned_tombstone_in_the_live_and_the_rebuilt_index(cluster, index):
    cluster.answers = [(200, bulk_answer(200, 404))]

    assert index.remove_individual(INDIVIDUAL_ID, version=4) is True

    tombstone = {"id": str(INDIVIDUAL_ID), "removed": True}
    assert cluster.requests[0][2] == [
        action("dh-individuals", INDIVIDUAL_ID, 4),
        tombstone,
        action("dh-individuals-building", INDIVIDUAL_ID, 4),
        tombstone,
    ]


def test_an_individual_is_written_with_words_and_sort_key_and_without_contact_details(cluster, index):
    cluster.answers = [(200, bulk_answer(201, 404))]
    individual = IndividualDocument(
        id=INDIVIDUAL_ID, name="Łukasz Ralte", country="PL", city="Łódź", languages=["lus"], visibility="public"
    )

    index.put_individual(individual, version=1)

    assert cluster.requests[0][2][1] == {
        "id": str(INDIVIDUAL_ID),
        "name": "Łukasz Ralte",
        "country": "PL",
        "city": "Łódź",
        "languages": ["lus"],
        "visibility": "public",
        "removed": False,
        "words": {"name": "lukasz ralte", "city": "lodz"},
        "sort_name": "lukasz ralte",
    }
