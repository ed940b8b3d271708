"""Advisories over HTTP, the whole system running: the Cell publishes for a circle; the verified associations in it
are told in their inboxes and those outside are not; the advisory is in the JSON list, as a CAP alert valid against
the OASIS schema and in the Atom feed; admins and people in the area answer its safety check and the Cell counts."""

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import requests
import xmlschema

from tests.cap_schema import CAP_SCHEMA
from tests.e2e.conftest import Person
from tests.e2e.test_messaging_api import eventually

BANGKOK = {"lat": 13.7563, "lon": 100.5018}


def verified_association(admin, cell_staff, *, city: str, country: str = "TH") -> str:
    association = admin.register_association(
        name=f"Mizo Fellowship {city} {uuid.uuid4().hex[:6]}", country=country, city=city, email="f@example.org"
    )
    decided = cell_staff.request(
        "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
    )
    assert decided.status_code == 200, decided.text
    # Searchable and known to messaging: the services follow the registry's events.
    assert eventually(
        lambda: admin.request("GET", f"/api/v1/associations/{association['id']}/notification-settings").ok
    )
    assert eventually(
        lambda: any(
            hit["id"] == association["id"]
            for hit in admin.request("GET", "/api/v1/search/associations", params={"q": city, "size": 100}).json()[
                "items"
            ]
        )
    )
    return association["id"]


def advisory_body(**changes) -> dict:
    return {
        "headline": f"Protests near Democracy Monument {uuid.uuid4().hex[:6]}",
        "description": "Roads around the monument are closed <until further notice> & trains are late.",
        "instruction": "Stay indoors after 18:00.",
        "severity": "Severe", "urgency": "Immediate", "certainty": "Observed",
        "area": {"circle": BANGKOK | {"radius_km": 50}},
        "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "safety_check": True,
    } | changes  # fmt: skip


def inbox_subjects(admin, association_id: str) -> list[str]:
    inbox = admin.request("GET", "/api/v1/inbox", params={"association_id": association_id})
    return [item["subject"] for item in inbox.json()["items"]]


@pytest.fixture(scope="module")
def bangkok_world(system, cell_staff):
    """Verified associations in Bangkok and Chiang Mai (700 km away), a person in Bangkok who chose to receive
    advisories, and an advisory the Cell published for 50 km around Bangkok once they were all known."""

    def someone() -> Person:
        return Person(system.url, f"advisory-{uuid.uuid4().hex[:10]}@example.org")

    bangkok_admin, chiang_mai_admin, person = someone(), someone(), someone()
    bangkok = verified_association(bangkok_admin, cell_staff, city="Bangkok")
    chiang_mai = verified_association(chiang_mai_admin, cell_staff, city="Chiang Mai")
    profile = {"name": "Lalhmangaihi", "country": "TH", "city": "Bangkok", "languages": ["lus"]}
    assert person.request("POST", "/api/v1/individuals", json=profile).status_code == 201
    chosen = person.request("PUT", "/api/v1/advisories/subscription", json={"receive": True})
    assert chosen.status_code == 200, chosen.text
    # Alerts hears of the profile's city from the registry's event, which may come after the subscription.
    assert eventually(lambda: person.request("GET", "/api/v1/advisories/subscription").json().get("city") == "Bangkok")
    body = advisory_body()
    published = cell_staff.request("POST", "/api/v1/advisories", json=body)
    assert published.status_code == 201, published.text
    return {
        "advisory": published.json(), "body": body, "bangkok": bangkok, "chiang_mai": chiang_mai,
        "bangkok_admin": bangkok_admin, "chiang_mai_admin": chiang_mai_admin, "person": person,
    }  # fmt: skip


def test_associations_and_people_in_the_circle_are_told_and_those_outside_are_not(bangkok_world):
    world = bangkok_world
    subject = f"[Severe] {world['body']['headline']}"

    assert eventually(lambda: subject in inbox_subjects(world["bangkok_admin"], world["bangkok"]))
    assert subject not in inbox_subjects(world["chiang_mai_admin"], world["chiang_mai"])
    person_inbox = world["person"].request("GET", "/api/v1/inbox").json()["items"]
    assert subject in [item["subject"] for item in person_inbox]


def test_only_the_cell_publishes(api, bangkok_world):
    anonymous = requests.post(f"{api}/api/v1/advisories", json=advisory_body(), timeout=10)
    admin = bangkok_world["bangkok_admin"].request("POST", "/api/v1/advisories", json=advisory_body())

    assert (anonymous.status_code, admin.status_code) == (401, 403)
    assert admin.json()["error"] == "forbidden"


def test_a_past_expiry_or_an_unknown_country_is_refused_with_the_field(cell_staff):
    past = cell_staff.request("POST", "/api/v1/advisories", json=advisory_body(expires_at="2020-01-01T00:00:00Z"))
    country = cell_staff.request("POST", "/api/v1/advisories", json=advisory_body(area={"countries": ["QQ"]}))

    assert past.status_code == 422 and "expires_at" in past.json()["message"]
    assert country.status_code == 422 and "area.countries.0" in country.json()["message"]


def test_the_advisory_is_public_as_json_cap_and_atom(api, bangkok_world):
    advisory = bangkok_world["advisory"]

    listed = requests.get(f"{api}/api/v1/advisories", params={"size": 100}, timeout=10).json()
    cap = requests.get(f"{api}/api/v1/advisories/{advisory['id']}.cap", timeout=10)
    atom = requests.get(f"{api}/api/v1/advisories.atom", timeout=10)

    assert advisory["id"] in [item["id"] for item in listed["items"] if not item["expired"]]
    assert cap.headers["Content-Type"].startswith("application/cap+xml")
    xmlschema.XMLSchema(str(CAP_SCHEMA)).validate(cap.text)
    assert atom.headers["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(atom.content)
    assert not feed.bozo
    [entry] = [entry for entry in feed.entries if entry.id == f"urn:uuid:{advisory['id']}"]
    assert entry.title == advisory["headline"]
    assert any(
        link.type == "application/cap+xml" and link.href.endswith(f"{advisory['id']}.cap") for link in entry.links
    )
    assert requests.get(f"{api}/api/v1/advisories/{uuid.uuid4()}.cap", timeout=10).status_code == 404


def test_safety_answers_are_counted_per_city_and_need_help_opens_a_help_request(api, bangkok_world, cell_staff):
    world = bangkok_world
    advisory_id = world["advisory"]["id"]
    safety = f"/api/v1/advisories/{advisory_id}/safety"
    # Delivered: the association and the person are reached.
    assert eventually(lambda: cell_staff.request("GET", f"/api/v1/advisories/{advisory_id}").json()["reached"] == 2)

    outside = world["chiang_mai_admin"].request("POST", safety, json={"status": "safe"})
    association = world["bangkok_admin"].request("POST", safety, json={"status": "safe"})
    person = world["person"].request("POST", safety, json={"status": "need_help"})

    assert outside.status_code == 403
    assert association.status_code == 200, association.text
    assert person.status_code == 200, person.text
    assert person.json()["help_request_id"] is not None
    counts = cell_staff.request("GET", safety)
    assert counts.status_code == 200, counts.text
    assert [
        (p["country"], p["city"], p["safe"], p["need_help"], p["not_answered"]) for p in counts.json()["places"]
    ] == [("TH", "Bangkok", 1, 1, 0)]
    assert world["bangkok_admin"].request("GET", safety).status_code == 403
    reminded = cell_staff.request("POST", f"{safety}/reminders")
    assert (reminded.status_code, reminded.json()["reminded"]) == (200, 0)
    atom = requests.get(f"{api}/api/v1/advisories.atom", timeout=10).text
    assert "need help" not in atom.lower() and person.json()["help_request_id"] not in atom


def test_alerts_reads_everyone_again_from_the_registry_on_the_command_line(system, bangkok_world):
    rebuilt = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "alerts", "rebuild-people"],
        capture_output=True, text=True, env=system.env, timeout=120,
    )  # fmt: skip

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Alerts' people rebuilt from the registry" in rebuilt.stdout
    choice = bangkok_world["person"].request("GET", "/api/v1/advisories/subscription").json()
    assert (choice["receive"], choice["country"], choice["city"]) == (True, "TH", "Bangkok")
