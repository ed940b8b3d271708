"""Search over HTTP through the gateway, with every service running; the events are published as the registry
publishes them, so that these tests depend on search alone."""

import time
import uuid

import pytest
import requests

from contracts.events import AssociationRegisteredV1
from tests.integration.search_contract.events import association_event, publish


@pytest.fixture
def publish_events(system):
    return lambda *events: publish(system.env["DIASPORAHUB_AMQP_URI"], *events)


def search(api: str, path: str = "associations", **params) -> requests.Response:
    return requests.get(f"{api}/api/v1/search/{path}", params=params, timeout=5)


def found_eventually(api: str, expected_total: int, **params) -> dict:
    deadline = time.monotonic() + 10
    while True:
        answer = search(api, **params)
        assert answer.status_code == 200, answer.text
        if answer.json()["total"] == expected_total or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.05)


def test_verified_associations_are_found_with_facets_filters_and_distances(api, publish_events):
    marker = uuid.uuid4().hex[:8]
    publish_events(
        association_event(name=f"Ṭhalai {marker} Dubai", categories=["youth"], location={"lat": 25.2, "lon": 55.27}),
        association_event(
            name=f"Hmar {marker} Sharjah",
            city="Sharjah",
            languages=["hmr"],
            categories=["church"],
            location={"lat": 25.35, "lon": 55.42},
        ),
        association_event(
            name=f"Mizo {marker} Delhi", country="IN", city="Delhi", location={"lat": 28.61, "lon": 77.21}
        ),
        association_event(AssociationRegisteredV1, name=f"Pending {marker}", status="pending"),
    )

    everything = found_eventually(api, 3, q=marker)
    assert everything["facets"]["country"] == {"AE": 2, "IN": 1}
    assert everything["facets"]["category"] == {"church": 1, "youth": 1}
    assert "email" not in everything["items"][0] and "phone" not in everything["items"][0]

    assert search(api, q=f"thalai {marker}").json()["total"] == 1
    assert search(api, q=marker, country="IN,AE", language=["hmr", "lus"]).json()["total"] == 3
    assert search(api, q=marker, country="IN", language="hmr").json()["total"] == 0
    nearby = search(api, q=marker, near="25.2,55.27", radius_km=50, sort="distance").json()
    assert [(item["city"], round(item["distance_km"])) for item in nearby["items"]] == [("Dubai", 0), ("Sharjah", 22)]


def test_type_ahead_suggests_by_the_beginning_of_names(api, publish_events):
    marker = uuid.uuid4().hex[:8]
    publish_events(association_event(name=f"Lalpa Kohhran {marker}"))
    found_eventually(api, 1, q=marker)

    answer = search(api, "suggest", q=f"lalp {marker[:4]}")

    assert answer.status_code == 200
    assert [item["name"] for item in answer.json()["items"]] == [f"Lalpa Kohhran {marker}"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "Melbourne"}, "near"),
        ({"radius_km": 5}, "body"),
        ({"country": "XX"}, "country.0"),
        ({"size": 101}, "size"),
    ],
)
def test_a_bad_query_is_refused_with_the_field_at_fault(api, params, field):
    answer = search(api, **params)

    assert answer.status_code == 422
    assert field in [problem["field"] for problem in answer.json()["problems"]]


def test_an_anonymous_caller_cannot_search_people_nor_filter_associations_by_status(api):
    assert search(api, "individuals").status_code == 401
    assert search(api, "individuals", q="lal").json()["error"] == "unauthenticated"
    assert search(api, status="pending").status_code == 403
