"""The search service over the real broker: registry events in, RPC answers out, nothing lost while it is down."""

import eventlet
import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Forbidden, Unauthenticated
from contracts.events import AssociationRegisteredV1, AssociationSuspendedV1, IndividualDeletedV1, IndividualUpdatedV1
from servicekit.migrations import upgrade
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.search.service import SearchService
from tests.integration.search_contract.events import association_event, individual_event, publish

CELL = Principal(account_id="7d0f6a8e-2f51-4b5b-9c53-0d2b1e6d5f10", email="cell@example.org", display_name="Cell")
CELL = CELL.model_copy(update={"is_cell_staff": True})
SINGAPORE_ADMIN = Principal(
    account_id="0c9e2a51-3f7c-4a55-8d63-4b9a2f1c0e77",
    email="admin@example.org",
    display_name="Admin",
    administers=[AdministeredAssociation(id="3b0f0e62-6f39-4f0f-a4a4-0a9f4a3d6c11", country="SG", verified=True)],
)


@pytest.fixture
def search_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    upgrade("services.search", url)
    monkeypatch.setenv("SEARCH_DATABASE_URL", url)
    monkeypatch.delenv("SEARCH_ELASTICSEARCH_URL", raising=False)
    return url


@pytest.fixture
def search_rpc(amqp_uri, bus):
    with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:
        yield lambda method, *args, **kwargs: client.call("search", method, *args, **kwargs)


@pytest.fixture
def search_service(nameko_config, search_database, container_factory):
    container = container_factory(SearchService, nameko_config)
    container.start()
    return container


def wait_until(condition, timeout_seconds: float = 10.0) -> None:
    with eventlet.Timeout(timeout_seconds):
        while not condition():
            eventlet.sleep(0.05)


def principal(who: Principal) -> dict:
    return who.model_dump(mode="json")


def test_individuals_are_indexed_updated_and_removed_from_their_events(amqp_uri, search_service, search_rpc):
    registered = individual_event(name="Lalremruati Hmar", visibility="associations", country="SG")
    publish(amqp_uri, registered)

    wait_until(lambda: search_rpc("search_individuals", {"q": "lalremruati"}, principal(SINGAPORE_ADMIN))["total"])
    made_private = individual_event(
        IndividualUpdatedV1, individual_id=registered.aggregate_id, version=2, visibility="private", name="Lalremruati"
    )
    publish(amqp_uri, made_private)
    wait_until(lambda: not search_rpc("search_individuals", {}, principal(SINGAPORE_ADMIN))["total"])
    assert search_rpc("search_individuals", {}, principal(CELL))["items"] == [
        {
            "id": str(registered.aggregate_id),
            "name": "Lalremruati",
            "country": "SG",
            "city": "Singapore",
            "languages": ["lus"],
        }
    ]

    publish(amqp_uri, individual_event(IndividualDeletedV1, individual_id=registered.aggregate_id, version=3))
    wait_until(lambda: not search_rpc("search_individuals", {}, principal(CELL))["total"])


def test_searching_people_needs_someone_signed_in(search_service, search_rpc):
    with pytest.raises(Unauthenticated):
        search_rpc("search_individuals", {})


def test_only_cell_staff_see_other_statuses(amqp_uri, search_service, search_rpc):
    pending = association_event(AssociationRegisteredV1, name="Pending Pawl", status="pending")
    publish(amqp_uri, pending, association_event(name="Verified Pawl"))
    wait_until(lambda: search_rpc("search_associations", {"q": "pawl"}, principal(CELL))["total"] == 2)

    assert [item["name"] for item in search_rpc("search_associations", {"q": "pawl"})["items"]] == ["Verified Pawl"]
    assert search_rpc("search_associations", {"status": ["pending"]}, principal(CELL))["items"][0]["name"] == (
        "Pending Pawl"
    )
    with pytest.raises(Forbidden):
        search_rpc("search_associations", {"status": ["pending"]}, principal(SINGAPORE_ADMIN))


def test_nearby_associations_are_verified_nearest_first_with_distances(amqp_uri, search_service, search_rpc):
    here = {"lat": 25.2048, "lon": 55.2708}
    publish(
        amqp_uri,
        association_event(name="Dubai Church", categories=["church"], location=here),
        association_event(name="Sharjah Welfare", categories=["welfare"], location={"lat": 25.3463, "lon": 55.4209}),
        association_event(name="Abu Dhabi Church", categories=["church"], location={"lat": 24.4539, "lon": 54.3773}),
        association_event(AssociationRegisteredV1, name="Pending Dubai", status="pending", location=here),
    )
    wait_until(lambda: search_rpc("search_associations", {}, principal(CELL))["total"] == 4)

    nearby = search_rpc("nearby_associations", here | {"radius_km": 50})
    assert set(nearby[0]) == {
        "id",
        "name",
        "alternate_names",
        "country",
        "city",
        "languages",
        "categories",
        "status",
        "distance_km",
    }
    assert [(item["name"], round(item["distance_km"])) for item in nearby] == [
        ("Dubai Church", 0),
        ("Sharjah Welfare", 22),
    ]
    churches = search_rpc("nearby_associations", here | {"radius_km": 200, "categories": ["church"]})
    assert [item["name"] for item in churches] == ["Dubai Church", "Abu Dhabi Church"]
    assert len(search_rpc("nearby_associations", here | {"radius_km": 200, "limit": 1})) == 1


def test_a_suspended_association_leaves_suggestions_and_search(amqp_uri, search_service, search_rpc):
    verified = association_event(name="Lalpa Kohhran Dubai")
    publish(amqp_uri, verified)
    wait_until(lambda: search_rpc("suggest_associations", {"q": "lalpa"})["items"])

    publish(
        amqp_uri,
        association_event(AssociationSuspendedV1, association_id=verified.aggregate_id, version=2, status="suspended"),
    )
    wait_until(lambda: not search_rpc("suggest_associations", {"q": "lalpa"})["items"])
    assert search_rpc("search_associations", {"q": "lalpa"})["total"] == 0


def test_a_stopped_search_service_misses_no_event(
    amqp_uri, nameko_config, search_database, container_factory, search_rpc
):
    first = container_factory(SearchService, nameko_config)
    first.start()
    first.stop()
    associations = [association_event(name=f"Missed Pawl {number}") for number in range(30)]
    people = [individual_event(name=f"Missed Person {number}") for number in range(10)]

    publish(amqp_uri, *associations, *people)
    container_factory(SearchService, nameko_config).start()

    wait_until(lambda: search_rpc("search_associations", {"q": "missed pawl", "size": 100})["total"] == 30)
    found = search_rpc("search_associations", {"q": "missed pawl", "size": 100})["items"]
    assert {item["id"] for item in found} == {str(event.aggregate_id) for event in associations}
    wait_until(lambda: search_rpc("search_individuals", {"q": "missed"}, principal(CELL))["total"] == 10)
