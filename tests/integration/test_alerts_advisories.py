"""The alerts service's advisories over the real broker and database (SQLite and PostgreSQL), with search and
messaging stood in by small services of the same names that answer from a fixed directory and record what they
were asked to send."""

from datetime import UTC, datetime, timedelta
from typing import ClassVar
from uuid import uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.advisories import AdvisoryPublishedV1
from contracts.errors import Forbidden, Invalid, NotFound
from contracts.individuals import IndividualProfileV1, VersionedIndividualProfile
from contracts.messaging import NotifyRequest
from contracts.search import AssociationQuery, AssociationResults, NearbyQuery
from servicekit.migrations import upgrade
from servicekit.rpc import rpc
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.alerts.advisories.domain import great_circle_km
from services.alerts.service import AlertsService
from tests.integration.search_contract.events import individual_event, publish
from tests.integration.test_messaging_service import wait_until

PUBLIC_URL = "https://hub.example.org"
BANGKOK = {"lat": 13.7563, "lon": 100.5018}
# The stand-in search's verified associations: two in and around Bangkok, one in Chiang Mai, one in Yangon.
DIRECTORY = {
    "bangkok": {"country": "TH", "city": "Bangkok", "lat": 13.75, "lon": 100.50},
    "nonthaburi": {"country": "TH", "city": "Nonthaburi", "lat": 13.86, "lon": 100.51},
    "chiang_mai": {"country": "TH", "city": "Chiang Mai", "lat": 18.79, "lon": 98.98},
    "yangon": {"country": "MM", "city": "Yangon", "lat": 16.84, "lon": 96.17},
}


class StandInSearch:
    name = "search"
    ids: ClassVar[dict[str, str]] = {}

    def _hits(self, keep) -> list[dict]:
        return [
            {"id": self.ids[key], "name": key, "country": place["country"], "city": place["city"],
             "languages": ["lus"], "status": "verified"}
            for key, place in DIRECTORY.items() if keep(place)
        ]  # fmt: skip

    @rpc
    def search_associations(self, query, principal=None):
        asked = AssociationQuery.model_validate(query)

        def keep(place):
            if asked.near is not None:
                distance = great_circle_km(asked.near.lat, asked.near.lon, place["lat"], place["lon"])
                return distance <= asked.radius_km
            return not asked.country or place["country"] in asked.country

        hits = self._hits(keep)
        start = (asked.page - 1) * asked.size
        return AssociationResults(total=len(hits), items=hits[start : start + asked.size]).model_dump(mode="json")

    @rpc
    def nearby_associations(self, query):
        asked = NearbyQuery.model_validate(query)
        return self._hits(
            lambda place: great_circle_km(asked.lat, asked.lon, place["lat"], place["lon"]) <= asked.radius_km
        )


class StandInMessaging:
    name = "messaging"
    sent: ClassVar[list[NotifyRequest]] = []

    @rpc
    def notify(self, request, service):
        self.sent.append(NotifyRequest.model_validate(request))
        return {"id": str(uuid4()), "recipients": len(request["recipients"])}


class StandInRegistry:
    """The registry's `individuals_after`: pages of versioned profiles in id order."""

    name = "registry"
    people: ClassVar[list[VersionedIndividualProfile]] = []

    @rpc
    def individuals_after(self, after_id, limit):
        ordered = sorted(self.people, key=lambda item: str(item.individual.id))
        rest = [item for item in ordered if after_id is None or str(item.individual.id) > after_id]
        return [item.model_dump(mode="json") for item in rest[:limit]]


CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell officer", is_cell_staff=True)


def admin_of(*association_ids, individual_id=None) -> Principal:
    return Principal(
        account_id=uuid4(), email=f"admin-{uuid4().hex[:6]}@example.org", display_name="Admin",
        individual_id=individual_id,
        administers=[AdministeredAssociation(id=i, country="TH", verified=True) for i in association_ids],
    )  # fmt: skip


def advisory_draft(**changes) -> dict:
    return {
        "headline": "Protests near Democracy Monument", "description": "Roads around the monument are closed.",
        "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
        "area": {"circle": BANGKOK | {"radius_km": 50}},
        "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "safety_check": True,
    } | changes  # fmt: skip


@pytest.fixture
def alerts(database_url, tmp_path, monkeypatch, nameko_config, container_factory):
    upgrade("services.alerts", database_url)
    for name, value in {"DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL,
                        "DATA_KEY_FILE": str(tmp_path / "alerts.key")}.items():  # fmt: skip
        monkeypatch.setenv(f"ALERTS_{name}", value)
    StandInSearch.ids = {key: str(uuid4()) for key in DIRECTORY}
    StandInMessaging.sent = []
    for service in (StandInSearch, StandInMessaging, AlertsService):
        container_factory(service, nameko_config).start()
    return StandInSearch.ids


@pytest.fixture
def call(amqp_uri, bus):
    with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:

        def calling(method, *args):
            dumped = [a.model_dump(mode="json") if hasattr(a, "model_dump") else a for a in args]
            return client.call("alerts", method, *dumped)

        yield calling


def delivered(call, advisory_id: str, reached: int) -> dict:
    return wait_until(lambda: (found := call("get_advisory", advisory_id))["reached"] == reached and found)


def test_an_advisory_reaches_the_associations_in_its_circle_only(alerts, call):
    published = call("publish_advisory", CELL, advisory_draft())

    delivered(call, published["id"], reached=2)

    [sent] = StandInMessaging.sent
    assert sorted(map(str, sent.recipients)) == sorted([alerts["bangkok"], alerts["nonthaburi"]])
    assert (sent.kind, sent.reference, sent.urgency) == ("advisory", f"advisory:{published['id']}", "urgent")
    assert sent.subject == "[Severe] Protests near Democracy Monument"
    assert f"{PUBLIC_URL}/api/v1/advisories/{published['id']}/safety" in sent.body


def test_only_the_cell_publishes_and_the_expiry_must_be_ahead(alerts, call):
    with pytest.raises(Forbidden):
        call("publish_advisory", admin_of(uuid4()), advisory_draft())
    with pytest.raises(Invalid, match="expires_at"):
        call("publish_advisory", CELL, advisory_draft(expires_at="2020-01-01T00:00:00Z"))
    assert call("list_advisories", {})["total"] == 0


def test_people_who_chose_advisories_are_reached_by_country_and_answer_for_themselves(alerts, amqp_uri, call):
    choosing, not_choosing = uuid4(), uuid4()
    publish(amqp_uri, *(individual_event(individual_id=i, country="TH", city="Bangkok")
                        for i in (choosing, not_choosing)))  # fmt: skip
    person = admin_of(individual_id=choosing)
    chosen = call("choose_advisories", person, {"receive": True})
    assert (chosen["individual_id"], chosen["receive"]) == (str(choosing), True)
    choice = wait_until(lambda: (known := call("advisory_choice", person))["country"] and known)
    assert (choice["receive"], choice["country"], choice["city"]) == (True, "TH", "Bangkok")

    published = call("publish_advisory", CELL, advisory_draft(area={"countries": ["TH"]}))
    delivered(call, published["id"], reached=4)  # three associations in Thailand and the person who chose it

    [sent] = StandInMessaging.sent
    assert (len(sent.recipients), sent.individuals) == (3, [choosing])

    answered = call("answer_safety", person, published["id"], {"status": "safe"})
    assert (answered["party"], answered["help_request_id"]) == (f"individual:{choosing}", None)
    counts = call("safety_counts", CELL, published["id"])
    assert (counts["safe"], counts["need_help"], counts["not_answered"]) == (1, 0, 3)


def test_safety_answers_are_counted_per_place_and_the_silent_are_reminded(alerts, amqp_uri, call):
    member = uuid4()
    publish(amqp_uri, individual_event(individual_id=member, country="TH", city="Pattaya",
                                       association_ids=[alerts["bangkok"]]))  # fmt: skip
    published = call("publish_advisory", CELL, advisory_draft())
    delivered(call, published["id"], reached=2)
    bangkok_admin = admin_of(alerts["bangkok"])

    call("answer_safety", bangkok_admin, published["id"], {"status": "safe"})
    for_member = wait_until(lambda: _answer_for(call, bangkok_admin, published["id"], member))

    assert for_member["party"] == f"individual:{member}"
    assert for_member["help_request_id"] is not None
    counts = call("safety_counts", CELL, published["id"])
    assert [(p["city"], p["safe"], p["need_help"], p["not_answered"]) for p in counts["places"]] == [
        ("Bangkok", 1, 0, 0), ("Nonthaburi", 0, 0, 1), ("Pattaya", 0, 1, 0),
    ]  # fmt: skip
    with pytest.raises(Forbidden):
        call("safety_counts", bangkok_admin, published["id"])

    assert call("remind_about_safety", CELL, published["id"])["reminded"] == 1
    reminder = StandInMessaging.sent[-1]
    assert [str(i) for i in reminder.recipients] == [alerts["nonthaburi"]]
    assert reminder.subject.startswith("Are you safe?")


def _answer_for(call, admin, advisory_id, member):
    """None until alerts has the member's profile from the registry's event."""
    try:
        return call("answer_safety", admin, advisory_id, {"status": "need_help", "for_member": str(member)})
    except NotFound:
        return None


def test_a_repeated_publication_event_reaches_nobody_twice(alerts, amqp_uri, call):
    published = call("publish_advisory", CELL, advisory_draft())
    delivered(call, published["id"], reached=2)
    repeat = AdvisoryPublishedV1(
        event_id=uuid4(), occurred_at=datetime.now(UTC), aggregate_id=published["id"], aggregate_version=1,
        advisory=published,
    )  # fmt: skip

    publish(amqp_uri, repeat)
    # The repeat goes first in the queue; a later advisory's delivery shows that the queue got past it.
    later = call("publish_advisory", CELL, advisory_draft(area={"countries": ["MM"]}))
    delivered(call, later["id"], reached=1)

    assert [sent.reference for sent in StandInMessaging.sent] == [
        f"advisory:{published['id']}",
        f"advisory:{later['id']}",
    ]
    assert call("get_advisory", published["id"])["reached"] == 2


def test_people_from_before_alerts_ran_are_read_from_the_registry(alerts, call, nameko_config, container_factory):
    in_bangkok, in_yangon = uuid4(), uuid4()
    StandInRegistry.people = [
        VersionedIndividualProfile(individual=IndividualProfileV1(
            id=individual_id, name="Lalremsiami", country=country, city=city, languages=["lus"], visibility="private",
        ), version=3)
        for individual_id, country, city in ((in_bangkok, "TH", "Bangkok"), (in_yangon, "MM", "Yangon"))
    ]  # fmt: skip
    container_factory(StandInRegistry, nameko_config).start()

    assert call("rebuild_advisory_people") == {"people": 2}
    assert call("rebuild_advisory_people") == {"people": 2}

    choice = call("choose_advisories", admin_of(individual_id=in_bangkok), {"receive": True})
    assert (choice["country"], choice["city"], choice["receive"]) == ("TH", "Bangkok", True)
    published = call("publish_advisory", CELL, advisory_draft())
    delivered(call, published["id"], reached=3)  # the two associations near Bangkok and the person
    assert StandInMessaging.sent[-1].individuals == [in_bangkok]
