"""Help requests through the HTTP API with every service running: the nearest verified associations are told
(those farther are not), the circle widens when fewer than three are near, one claim wins and the other gets 409,
nobody who has not claimed sees the exact place or the contact details (API, e-mails, webhooks), a request
without an account reaches only the Cell until released, and an escalation survives a restart of alerts.

Each test works in a country of its own, so that associations of other tests are never near its requests."""

import concurrent.futures
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from servicekit.places import Gazetteer
from tests.e2e.conftest import Person
from tests.messaging_servers import WebhookReceiver

PHONE = "+96891234567"
# Longer than the summary associations read before they claim: its end is for the claimer's eyes only.
DESCRIPTION = (
    "Lalthanga fell from scaffolding at work and was taken to hospital. " * 5 + "ICU of the Royal Hospital, bed 14."
)
SECRET_PART = "bed 14"


def wait_until(condition, timeout_seconds: float = 30.0):
    deadline = time.monotonic() + timeout_seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)
    return result


@pytest.fixture
def helpers(api, cell_staff):
    """`helpers(country, city, …)` gives each place a verified association with an admin of its own, and waits
    until search has indexed them all."""

    def make(country: str, *cities: str) -> list[tuple[Person, str]]:
        made = []
        for city in cities:
            admin = Person(api, f"helper-{uuid.uuid4().hex[:10]}@example.org")
            association = admin.register_association(
                name=f"Mizo Fellowship {city} {uuid.uuid4().hex[:6]}", country=country, city=city,
                email=f"fellowship-{uuid.uuid4().hex[:6]}@example.org",
            )  # fmt: skip
            verified = cell_staff.request(
                "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
            )
            assert verified.status_code == 200, verified.text
            made.append((admin, association["id"]))
        ids = {association_id for _, association_id in made}

        def indexed():
            found = requests.get(
                f"{api}/api/v1/search/associations", params={"country": country, "size": 100}, timeout=10
            ).json()
            return ids <= {item["id"] for item in found["items"]}

        wait_until(indexed)
        return made

    return make


def exact_place(city: str, country: str) -> tuple[float, float]:
    """A point a little off the city's centre, written with five decimals: what must never reach a non-claimer."""
    centre = Gazetteer().locate(city, country)
    return round(centre.lat + 0.01234, 5), round(centre.lon + 0.01234, 5)


def help_request(city: str, country: str, **fields) -> dict:
    lat, lon = exact_place(city, country)
    return {
        "category": "medical", "urgency": "immediate", "severity": "severe", "description": DESCRIPTION,
        "location": {"lat": lat, "lon": lon, "country": country, "city": city}, "languages": ["lus"],
        "contact": {"name": "Lalthanga's cousin", "phone": PHONE},
    } | fields  # fmt: skip


def reveals_nothing(text: str, city: str, country: str) -> bool:
    lat, lon = exact_place(city, country)
    return PHONE not in text and SECRET_PART not in text and str(lat) not in text and str(lon) not in text


def inbox_subjects(admin: Person, association_id: str) -> list[str]:
    inbox = admin.request("GET", "/api/v1/inbox", params={"association_id": association_id})
    assert inbox.status_code == 200, inbox.text
    return [item["subject"] for item in inbox.json()["items"]]


def told(admin: Person, association_id: str, reference: str) -> bool:
    return any(reference in subject for subject in inbox_subjects(admin, association_id))


def told_the_cell(cell_staff: Person, reference: str) -> bool:
    inbox = cell_staff.request("GET", "/api/v1/inbox")
    assert inbox.status_code == 200, inbox.text
    return any(reference in item["subject"] and item["recipient"]["kind"] == "cell" for item in inbox.json()["items"])


def mails_about(system, reference: str) -> list[str]:
    folder = Path(system.env["MESSAGING_MAIL_FOLDER"])
    texts = [path.read_text(errors="replace") for path in folder.glob("**/*.eml")] if folder.exists() else []
    return [text for text in texts if reference in text]


def test_the_associations_near_are_told_and_those_farther_are_not(system, api, person, helpers):
    near = helpers("OM", "Muscat", "Muscat", "Muscat")
    [(far_admin, far)] = helpers("OM", "Sohar")  # about 200 km away

    requester = person()
    raised = requester.request("POST", "/api/v1/alerts", json=help_request("Muscat", "OM"))

    assert raised.status_code == 201, raised.text
    created = raised.json()
    assert created["status"] == "open" and created["notified_count"] == 3
    assert created["reference"].startswith("DH-") and len(created["reference"]) == len("DH-2026-000123")
    for admin, association_id in near:
        assert told(admin, association_id, created["reference"])
    assert not told(far_admin, far, created["reference"])
    mails = wait_until(lambda: len(found := mails_about(system, created["reference"])) >= 3 and found)
    assert all(reveals_nothing(mail, "Muscat", "OM") for mail in mails)

    def reached():  # messaging's delivery reports, in the timeline the requester follows
        timeline = requester.request("GET", f"/api/v1/alerts/{created['id']}").json()["timeline"]
        return {step["actor"] for step in timeline if step["kind"] == "reached_by_email"}

    assert wait_until(lambda: len(found := reached()) >= 3 and found) == {f"association:{i}" for _, i in near}


def test_fewer_than_three_near_widens_the_circle(person, helpers):
    helpers("KR", "Seoul", "Incheon", "Busan")  # Incheon ~30 km from Seoul, Busan ~320 km

    raised = person().request("POST", "/api/v1/alerts", json=help_request("Seoul", "KR"))

    assert raised.status_code == 201, raised.text
    assert raised.json()["notified_count"] == 3
    seen = person().request("GET", f"/api/v1/alerts/{raised.json()['id']}")
    assert seen.status_code == 404  # a stranger sees nothing of it


def test_two_claims_at_once_one_wins_and_only_the_winner_and_the_cell_see_place_and_contact(
    system, person, helpers, cell_staff
):
    (admin_a, a), (admin_b, b), (admin_c, c) = helpers("BH", "Manama", "Manama", "Manama")
    with WebhookReceiver() as receiver:
        hooked = admin_c.request("PUT", f"/api/v1/associations/{c}/notification-settings",
                                 json={"email_mode": "immediate", "webhook_url": receiver.url})  # fmt: skip
        assert hooked.status_code == 200, hooked.text
        requester = person()
        created = requester.request("POST", "/api/v1/alerts", json=help_request("Manama", "BH")).json()
        path = f"/api/v1/alerts/{created['id']}"

        before = admin_a.request("GET", path).json()
        assert before["contact"] is None and before["location"] is None and before["description"] is None
        assert before["approximate_location"] is not None and before["city"] == "Manama"
        assert reveals_nothing(str(before), "Manama", "BH")
        claims = [(admin_a, {"association_id": a}), (admin_b, {"association_id": b})]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda claim: claim[0].request("POST", f"{path}/claim", json=claim[1]), claims))

        assert sorted(answer.status_code for answer in answers) == [200, 409]
        winner, loser = (admin_a, admin_b) if answers[0].status_code == 200 else (admin_b, admin_a)
        won = winner.request("GET", path).json()
        assert won["contact"]["phone"] == PHONE and won["location"] is not None and won["description"] == DESCRIPTION
        lost = loser.request("GET", path).json()
        assert lost["claimed_by"] == won["claimed_by"] and lost["contact"] is None and lost["location"] is None
        listed = loser.request("GET", "/api/v1/alerts", params={"association_id": a if loser is admin_a else b})
        assert reveals_nothing(listed.text, "Manama", "BH") and reveals_nothing(str(lost), "Manama", "BH")
        cell_view = cell_staff.request("GET", path).json()
        assert cell_view["contact"]["phone"] == PHONE
        wait_until(lambda: receiver.payloads())
    assert all(reveals_nothing(str(payload), "Manama", "BH") for payload in receiver.payloads())
    assert all(reveals_nothing(mail, "Manama", "BH") for mail in mails_about(system, created["reference"]))
    views = requester.request("GET", path).json()["timeline"]
    assert [step["kind"] for step in views].count("claimed") == 1


def test_without_an_account_a_request_reaches_only_the_cell_until_it_is_released(api, cell_staff, helpers):
    (admin, association_id), *_ = helpers("LK", "Colombo", "Colombo", "Colombo")
    anonymous = requests.post(f"{api}/api/v1/alerts", json=help_request("Colombo", "LK"), timeout=10)

    assert anonymous.status_code == 201, anonymous.text
    created = anonymous.json()
    assert created["notified_count"] == 0 and created["follow_key"]
    path = f"/api/v1/alerts/{created['id']}"
    assert admin.request("GET", path).status_code == 404
    assert not told(admin, association_id, created["reference"])
    queue = cell_staff.request("GET", "/api/v1/alerts", params={"status": "open"}).json()["items"]
    assert created["id"] in {item["id"] for item in queue}
    wait_until(lambda: told_the_cell(cell_staff, created["reference"]))  # its inbox, every Cell officer's
    followed = requests.get(f"{api}{path}", params={"key": created["follow_key"]}, timeout=10).json()
    assert followed["held_for_cell"] and followed["contact"]["phone"] == PHONE

    released = cell_staff.request("POST", f"{path}/release")

    assert released.status_code == 200, released.text
    wait_until(lambda: told(admin, association_id, created["reference"]))
    assert reveals_nothing(admin.request("GET", path).text, "Colombo", "LK")


def test_an_unclaimed_request_escalates_when_its_deadline_passes_also_across_a_restart(system, person, helpers):
    near = helpers("NP", "Kathmandu", "Kathmandu", "Kathmandu")
    [(far_admin, far)] = helpers("NP", "Pokhara")  # ~140 km: the next ring
    requester = person()
    created = requester.request(
        "POST", "/api/v1/alerts", json=help_request("Kathmandu", "NP", urgency="future")
    ).json()  # ALERTS_FUTURE_DEADLINE_MINUTES is 0.1 in tests/e2e/conftest.py
    assert created["notified_count"] == 3
    due = datetime.fromisoformat(
        requester.request("GET", f"/api/v1/alerts/{created['id']}").json()["next_escalation_at"]
    )
    system.stop("alerts")
    wait_until(lambda: datetime.now(UTC) > due + timedelta(seconds=1))  # the deadline passes while alerts is down
    system.start("alerts")

    wait_until(lambda: told(far_admin, far, created["reference"]))
    seen = requester.request("GET", f"/api/v1/alerts/{created['id']}").json()
    assert seen["ring"] in ("150km", "500km", "country", "cell")
    assert [step["kind"] for step in seen["timeline"]].count("notified_150km") == 1
    for admin, association_id in near:
        assert [created["reference"] in subject for subject in inbox_subjects(admin, association_id)].count(True) == 1


def test_no_log_line_holds_a_contact_detail_an_exact_place_or_the_description(system, person, helpers, cell_staff):
    (admin, association_id), *_ = helpers("QA", "Doha", "Doha", "Doha")
    requester = person()
    created = requester.request("POST", "/api/v1/alerts", json=help_request("Doha", "QA")).json()
    path = f"/api/v1/alerts/{created['id']}"
    assert admin.request("POST", f"{path}/claim", json={"association_id": association_id}).status_code == 200
    for viewer in (admin, cell_staff, requester):
        assert viewer.request("GET", path).status_code == 200
    assert admin.request("POST", f"{path}/updates", json={"body": f"Visited {SECRET_PART}"}).status_code == 200
    wait_until(lambda: len(mails_about(system, created["reference"])) >= 3)

    logs = " ".join(path.read_text(errors="replace") for path in system.log_dir.glob("*.log"))
    assert created["reference"] in logs  # the logs are there, and name the case by its reference
    assert reveals_nothing(logs, "Doha", "QA") and "Lalthanga fell" not in logs
