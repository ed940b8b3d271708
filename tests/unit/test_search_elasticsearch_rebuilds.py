"""Rebuilding an index in Elasticsearch without a cluster: one rebuild at a time, the alias switch, and the long
timeout of every maintenance request."""

from datetime import timedelta

import pytest

from services.search.domain import RebuildRunning
from services.search.elastic.index import ElasticsearchIndex
from services.search.elastic.mappings import ASSOCIATION_MAPPINGS, INDEX_SETTINGS, REBUILD_MAPPINGS
from services.search.elastic.rebuilds import REBUILD_SETTINGS
from tests.unit.test_search_elasticsearch import NOW, Cluster, association
from tests.unit.test_search_elasticsearch_writes import action, bulk_answer

ALREADY_EXISTS = {"error": {"type": "resource_already_exists_exception", "reason": "exists"}, "status": 400}
CONFLICT = {"error": {"type": "version_conflict_engine_exception", "reason": "exists"}, "status": 409}


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def index(cluster) -> ElasticsearchIndex:
    return cluster.index()


def held_since(moment) -> dict:
    return {"_id": "dh-associations", "_seq_no": 7, "_primary_term": 1, "_source": {"active_at": moment.isoformat()}}


def test_a_rebuild_first_holds_the_index_then_begins_a_new_one_behind_the_building_alias(cluster, index):
    cluster.answers = [(400, ALREADY_EXISTS), (201, {"result": "created"}), (404, {}), (200, {"acknowledged": True})]

    index.begin_rebuild()

    assert cluster.requests[:3] == [
        ("PUT", "/dh-rebuilds", {"mappings": REBUILD_MAPPINGS, "settings": REBUILD_SETTINGS}),
        ("PUT", "/dh-rebuilds/_create/dh-associations", {"active_at": NOW.isoformat()}),
        ("GET", "/_alias/dh-associations-building", None),
    ]
    method, target, body = cluster.requests[3]
    assert (method, body) == (
        "PUT",
        {"aliases": {"dh-associations-building": {}}, "mappings": ASSOCIATION_MAPPINGS, "settings": INDEX_SETTINGS},
    )
    assert target.startswith("/dh-associations-2")
    assert cluster.timeouts == [600, 600, 600, 600]


def test_a_second_rebuild_is_refused_while_the_first_one_has_written_lately(cluster, index):
    cluster.answers = [(400, ALREADY_EXISTS), (409, CONFLICT), (200, held_since(NOW - timedelta(minutes=9)))]

    with pytest.raises(RebuildRunning, match="a rebuild of the associations index is already under way"):
        index.begin_rebuild()

    assert cluster.requests[2] == ("GET", "/dh-rebuilds/_doc/dh-associations", None)
    assert len(cluster.requests) == 3


def test_a_rebuild_silent_for_ten_minutes_is_taken_over_and_its_index_deleted(cluster, index):
    cluster.answers = [
        (400, ALREADY_EXISTS),
        (409, CONFLICT),
        (200, held_since(NOW - timedelta(minutes=11))),
        (200, {"result": "updated"}),
        (200, {"dh-associations-20270301080000000000": {"aliases": {"dh-associations-building": {}}}}),
        (200, {"acknowledged": True}),
        (200, {"acknowledged": True}),
    ]

    index.begin_rebuild()

    assert cluster.requests[3:6] == [
        ("PUT", "/dh-rebuilds/_doc/dh-associations?if_primary_term=1&if_seq_no=7", {"active_at": NOW.isoformat()}),
        ("GET", "/_alias/dh-associations-building", None),
        ("DELETE", "/dh-associations-20270301080000000000", None),
    ]


def test_of_two_taking_over_an_abandoned_rebuild_at_once_one_only_goes_on(cluster, index):
    cluster.answers = [
        (400, ALREADY_EXISTS),
        (409, CONFLICT),
        (200, held_since(NOW - timedelta(minutes=11))),
        (409, CONFLICT),
    ]

    with pytest.raises(RebuildRunning):
        index.begin_rebuild()

    assert len(cluster.requests) == 4


def test_each_rebuilt_batch_holds_the_rebuild_and_goes_to_the_building_alias(cluster, index):
    cluster.answers = [(200, {"result": "updated"}), (200, bulk_answer(201))]
    document = association()

    index.put_rebuilt_associations([(document, 2)])

    assert cluster.requests[0] == ("PUT", "/dh-rebuilds/_doc/dh-associations", {"active_at": NOW.isoformat()})
    method, target, body = cluster.requests[1]
    assert (method, target, body[0]) == ("PUT", "/_bulk", action("dh-associations-building", document.id, 2))
    assert cluster.timeouts == [600, 600]


@pytest.mark.parametrize("put_rebuilt", ["put_rebuilt_associations", "put_rebuilt_individuals"])
def test_an_empty_batch_sends_nothing(cluster, index, put_rebuilt):
    getattr(index, put_rebuilt)([])

    assert cluster.requests == []


@pytest.mark.parametrize(
    ("kind", "finish"), [("associations", "finish_rebuild"), ("individuals", "finish_individual_rebuild")]
)
def test_a_rebuild_switches_the_alias_in_one_request_drops_the_old_index_and_lets_go(cluster, index, kind, finish):
    cluster.answers = [
        (200, {f"dh-{kind}-20260102": {"aliases": {f"dh-{kind}-building": {}}}}),
        (200, {f"dh-{kind}-initial": {"aliases": {f"dh-{kind}": {}}}}),
        (200, {}),
        (200, {"acknowledged": True}),
        (200, {"acknowledged": True}),
        (200, {"result": "deleted"}),
    ]

    getattr(index, finish)()

    assert cluster.requests == [
        ("GET", f"/_alias/dh-{kind}-building", None),
        ("GET", f"/_alias/dh-{kind}", None),
        ("POST", f"/dh-{kind}-20260102/_refresh", None),
        (
            "POST",
            "/_aliases",
            {
                "actions": [
                    {"remove": {"index": f"dh-{kind}-initial", "alias": f"dh-{kind}"}},
                    {"add": {"index": f"dh-{kind}-20260102", "alias": f"dh-{kind}"}},
                    {"remove": {"index": f"dh-{kind}-20260102", "alias": f"dh-{kind}-building"}},
                ]
            },
        ),
        ("DELETE", f"/dh-{kind}-initial", None),
        ("DELETE", f"/dh-rebuilds/_doc/dh-{kind}", None),
    ]
    assert set(cluster.timeouts) == {600}


def test_counting_and_exporting_take_the_long_timeout(cluster, index):
    cluster.answers = [(200, {"count": 7}), (200, {"hits": {"total": {"value": 0}, "hits": []}})]

    index.association_count()
    list(index.stored_associations())

    assert cluster.requests[1] == (
        "POST",
        "/dh-associations/_search?_source_excludes=public,words,sort_name",
        {"query": {"match_all": {}}, "sort": [{"id": "asc"}], "size": 1000, "version": True},
    )
    assert cluster.timeouts == [600, 600]
