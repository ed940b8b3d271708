"""The contract suite's clean-up on a real cluster, without one: Elasticsearch 8 refuses to delete by wildcard
(`action.destructive_requires_name` is true by default), so the test indices are deleted by their names."""

from tests.integration.search_contract.elasticsearch_indices import delete_indices
from tests.unit.test_search_elasticsearch import Cluster


def test_the_test_indices_are_resolved_then_deleted_by_name():
    cluster = Cluster()
    cluster.answers = [
        (
            200,
            {
                "indices": [
                    {
                        "name": "diasporahub-test-1a-associations-initial",
                        "aliases": ["diasporahub-test-1a-associations"],
                    },
                    {"name": "diasporahub-test-1a-individuals-initial", "aliases": ["diasporahub-test-1a-individuals"]},
                    {"name": "diasporahub-test-1a-rebuilds"},
                ],
                "aliases": [],
                "data_streams": [],
            },
        )
    ]

    delete_indices(cluster.client(), "diasporahub-test-1a-")

    assert cluster.requests == [
        ("GET", "/_resolve/index/diasporahub-test-1a-*", None),
        (
            "DELETE",
            "/diasporahub-test-1a-associations-initial,diasporahub-test-1a-individuals-initial,"
            "diasporahub-test-1a-rebuilds",
            None,
        ),
    ]


def test_nothing_to_delete_sends_no_delete():
    cluster = Cluster()
    cluster.answers = [(200, {"indices": [], "aliases": [], "data_streams": []})]

    delete_indices(cluster.client(), "diasporahub-test-1a-")

    assert [method for method, _, _ in cluster.requests] == ["GET"]
