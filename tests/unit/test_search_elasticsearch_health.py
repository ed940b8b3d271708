"""Search's readiness on Elasticsearch: what it asks the cluster (the health of our own two indices, bounded in time)
and which answers make it ready."""

import pytest

from tests.unit.test_search_elasticsearch import Cluster


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


def test_it_asks_for_the_health_of_our_two_indices_only_and_waits_at_most_a_few_seconds(cluster):
    cluster.answers.append((200, {"status": "green"}))

    assert cluster.engine().answers() is True

    assert cluster.requests == [("GET", "/_cluster/health/dh-associations,dh-individuals?timeout=2s", None)]
    assert cluster.timeouts == [3]


@pytest.mark.parametrize(("status", "ready"), [("green", True), ("yellow", True), ("red", False)])
def test_yellow_indices_still_answer_searches_red_ones_do_not(cluster, status, ready):
    cluster.answers.append((200, {"status": status}))

    assert cluster.engine().answers() is ready


def test_a_cluster_that_answers_with_an_error_is_not_ready_at_once_without_retrying(cluster):
    cluster.answers.append((503, {"error": {"type": "master_not_discovered_exception"}, "status": 503}))

    assert cluster.engine().answers() is False

    assert len(cluster.requests) == 1
