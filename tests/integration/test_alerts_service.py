"""The alerts service over the real broker and PostgreSQL, two replicas sharing one database, with search and
messaging played by fakes of their ports (nameko services answering `nearby_associations`,
`search_associations` and `notify`): a claim race has one winner, and an escalation happens once when the clock
passes the deadline, also across a restart."""

import math
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import eventlet
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Conflict, NotFound
from contracts.events import DeliveryFailedV1, DeliverySentV1
from servicekit.migrations import upgrade
from servicekit.outbox import TABLE_NAME
from servicekit.rpc import rpc
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from servicekit.shared import Shared
from services.alerts.db import Base, HelpRequestRecord
from services.alerts.service import AlertsService
from tests.integration.search_contract.events import publish

DUBAI = (25.2048, 55.2708)
NEAR = [uuid4(), uuid4(), uuid4()]  # within 50 km of Dubai
SHARJAH_FAR = uuid4()  # 120 km away: in the 150 km ring
PLACES = {NEAR[0]: (25.21, 55.28), NEAR[1]: (25.30, 55.40), NEAR[2]: (25.10, 55.20), SHARJAH_FAR: (25.80, 56.20)}


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()
NOTIFIED: list[dict] = []


def kilometres(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


class FakeSearch:
    """search's port: the verified associations of PLACES, by distance from the point asked about."""

    name = "search"

    @rpc
    def nearby_associations(self, query):
        point = (query["lat"], query["lon"])
        hits = sorted((kilometres(point, place), association_id) for association_id, place in PLACES.items())
        return [
            {"id": str(association_id), "name": f"Association {association_id}", "country": "AE", "city": "Dubai",
             "languages": ["lus"], "status": "verified", "distance_km": distance}
            for distance, association_id in hits if distance <= query["radius_km"]
        ]  # fmt: skip

    @rpc
    def search_associations(self, query, principal=None):
        return {"total": 0, "items": []}


class FakeMessaging:
    """messaging's port: remembers every notification."""

    name = "messaging"

    @rpc
    def notify(self, request, service):
        NOTIFIED.append(request)
        return {"id": str(uuid4()), "recipients": len(request["recipients"])}


class AlertsOnTheTestClock(AlertsService):
    clock = Shared(lambda: CLOCK)


def admin_of(association_id) -> dict:
    return Principal(
        account_id=uuid4(), email="admin@example.org", display_name="Admin",
        administers=[AdministeredAssociation(id=association_id, country="AE", verified=True)],
    ).model_dump(mode="json")  # fmt: skip


REQUESTER = Principal(account_id=uuid4(), email="lal@example.org", display_name="Lal").model_dump(mode="json")
DRAFT = {
    "category": "medical", "urgency": "immediate", "description": "Hospitalised after a fall at work.",
    "location": {"lat": DUBAI[0], "lon": DUBAI[1]}, "contact": {"name": "Lal", "phone": "+971501234567"},
}  # fmt: skip


@pytest.fixture
def alerts_database(postgres_databases, monkeypatch):
    url = postgres_databases.create()
    upgrade("services.alerts", url)
    monkeypatch.setenv("ALERTS_DATABASE_URL", url)
    monkeypatch.setenv("ALERTS_DATA_KEYS", Fernet.generate_key().decode())
    NOTIFIED.clear()
    CLOCK.now = datetime.now(UTC)
    return url


@pytest.fixture
def ports(nameko_config, container_factory):
    for fake in (FakeSearch, FakeMessaging):
        container_factory(fake, nameko_config).start()


@pytest.fixture
def replicas(nameko_config, alerts_database, ports, container_factory):
    """Two alerts processes on one database."""
    started = [container_factory(AlertsOnTheTestClock, nameko_config) for _ in range(2)]
    for container in started:
        container.start()
    return started


@pytest.fixture
def call(amqp_uri, bus):
    with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:
        yield lambda method, *args: client.call("alerts", method, *args)


def outbox_events(url: str, routing_key: str) -> int:
    engine = create_engine(url)
    table = Base.metadata.tables[TABLE_NAME]
    with engine.connect() as connection:
        found = connection.execute(select(table.c.id).where(table.c.routing_key == routing_key)).all()
    engine.dispose()
    return len(found)


def wait_until(condition, timeout_seconds: float = 15.0):
    with eventlet.Timeout(timeout_seconds):
        while not (result := condition()):
            eventlet.sleep(0.05)
    return result


def test_a_request_reaches_the_three_nearest_and_they_alone_see_a_summary(replicas, call):
    created = call("raise_help_request", REQUESTER, DRAFT, "203.0.113.7")

    assert created["notified_count"] == 3 and created["reference"].startswith(f"DH-{CLOCK.now.year}-")
    [notification] = NOTIFIED
    assert sorted(notification["recipients"]) == sorted(map(str, NEAR)) and notification["urgency"] == "urgent"
    assert "+971501234567" not in notification["body"] and "25.2048" not in notification["body"]
    seen_by_notified = call("get_help_request", admin_of(NEAR[0]), created["id"], {})
    assert seen_by_notified["contact"] is None and seen_by_notified["location"] is None
    assert seen_by_notified["approximate_location"] == {"lat": 25.2, "lon": 55.3}
    with pytest.raises(NotFound):
        call("get_help_request", admin_of(SHARJAH_FAR), created["id"], {})


def test_two_associations_claiming_at_once_one_wins_the_other_gets_a_conflict(replicas, call, amqp_uri):
    created = call("raise_help_request", REQUESTER, DRAFT, None)

    def claim(association_id):
        with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:
            try:
                return client.call("alerts", "claim_help_request", admin_of(association_id), created["id"],
                                   {"association_id": str(association_id)})  # fmt: skip
            except Conflict as exc:
                return exc

    outcomes = [thread.wait() for thread in [eventlet.spawn(claim, NEAR[0]), eventlet.spawn(claim, NEAR[1])]]

    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    [won] = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    assert len(conflicts) == 1
    assert won["status"] == "claimed" and won["contact"] == {"name": "Lal", "phone": "+971501234567", "email": None}
    loser = NEAR[1] if won["claimed_by"] == f"association:{NEAR[0]}" else NEAR[0]
    seen_by_loser = call("get_help_request", admin_of(loser), created["id"], {})
    assert seen_by_loser["claimed_by"] == won["claimed_by"] and seen_by_loser["contact"] is None


def test_escalation_happens_once_when_the_clock_passes_the_deadline_even_across_a_restart(
    alerts_database, ports, nameko_config, container_factory, call
):
    first = container_factory(AlertsOnTheTestClock, nameko_config)
    first.start()
    created = call("raise_help_request", REQUESTER, DRAFT, None)
    assert len(NOTIFIED) == 1
    first.stop()

    CLOCK.now += timedelta(minutes=16)  # past the 15 minutes of an immediate request
    for _ in range(2):
        container_factory(AlertsOnTheTestClock, nameko_config).start()

    wait_until(lambda: len(NOTIFIED) == 2)
    eventlet.sleep(2.5)  # two more ticks of each replica's timer: nothing is due again
    assert len(NOTIFIED) == 2
    assert NOTIFIED[1]["recipients"] == [str(SHARJAH_FAR)]
    assert outbox_events(alerts_database, "help_request_escalated.v1") == 1
    seen = call("get_help_request", REQUESTER, created["id"], {})
    assert seen["ring"] == "150km"
    assert [step["kind"] for step in seen["timeline"]].count("escalated") == 1


def test_a_request_without_an_account_reaches_only_the_cell_until_it_is_released(replicas, call):
    cell = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
    created = call("raise_help_request", None, DRAFT, "198.51.100.9")

    assert created["notified_count"] == 0 and created["follow_key"]
    wait_until(lambda: NOTIFIED)  # the Cell alone, in its inbox and mailbox
    assert NOTIFIED[0]["cell"] and NOTIFIED[0]["recipients"] == []
    assert "held for you to release" in NOTIFIED[0]["body"] and "+971501234567" not in NOTIFIED[0]["body"]
    for stranger in (REQUESTER, admin_of(NEAR[0])):  # held for the Cell: nobody else even sees it
        with pytest.raises(NotFound):
            call("release_help_request", stranger, created["id"])
    followed = call("get_help_request", None, created["id"], {"key": created["follow_key"]})
    assert followed["held_for_cell"] and followed["contact"]["phone"] == "+971501234567"

    call("release_help_request", cell.model_dump(mode="json"), created["id"])

    wait_until(lambda: len(NOTIFIED) == 2)
    assert len(NOTIFIED[1]["recipients"]) == 3 and NOTIFIED[1]["cell"]
    seen = call("get_help_request", cell.model_dump(mode="json"), created["id"], {})
    assert [step["kind"] for step in seen["timeline"]].count("cell_notified") == 1


def test_contact_and_exact_place_are_stored_only_sealed(replicas, call, alerts_database):
    created = call("raise_help_request", REQUESTER, DRAFT, None)

    engine = create_engine(alerts_database)
    with engine.connect() as connection:
        row = connection.execute(select(HelpRequestRecord).where(HelpRequestRecord.id == created["id"])).one()
    engine.dispose()
    stored = " ".join(str(value) for value in row)
    assert "+971501234567" not in stored and "25.2048" not in stored and "55.2708" not in stored


def delivery_report(kind, reference: str, recipient: str, **fields):
    return kind(
        event_id=uuid4(), occurred_at=CLOCK.now, aggregate_id=uuid4(), aggregate_version=1, message_id=uuid4(),
        recipient=recipient, channel="email", attempts=1, reference=reference, **fields,
    )  # fmt: skip


def test_who_was_reached_comes_into_the_timeline_once_for_the_requester_and_the_cell(replicas, call, amqp_uri):
    cell = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
    created = call("raise_help_request", REQUESTER, DRAFT, None)
    reached = delivery_report(DeliverySentV1, created["reference"], f"association:{NEAR[0]}")
    failed = delivery_report(DeliveryFailedV1, created["reference"], "cell:00000000-0000-4000-8000-00000000ce11",
                             error="550 mailbox unavailable")  # fmt: skip
    advisory = delivery_report(DeliverySentV1, "advisory:1", f"association:{NEAR[1]}")

    publish(amqp_uri, reached, reached, advisory, failed)  # the first one twice: a redelivery

    def steps(principal):
        timeline = call("get_help_request", principal, created["id"], {})["timeline"]
        return [(step["kind"], step["actor"], step["note"]) for step in timeline if "reached" in step["kind"]]

    wait_until(lambda: len(steps(REQUESTER)) >= 2)
    eventlet.sleep(0.5)  # the repeat has been handled too
    assert sorted(steps(REQUESTER)) == sorted(steps(cell.model_dump(mode="json"))) == [
        ("not_reached_by_email", "cell", "The Cell's duty mailbox not reached by e-mail after 1 attempt: "
                                         "550 mailbox unavailable"),
        ("reached_by_email", f"association:{NEAR[0]}", f"Association {NEAR[0]} reached by e-mail"),
    ]  # fmt: skip
