"""Registering, verifying and finding associations over HTTP, through every service."""

import time
import uuid

import pytest
import requests

from servicekit.rpc import call_service
from servicekit.settings import BusSettings


def association(**overrides) -> dict:
    return {
        "name": "Mizo Welfare Association Dubai",
        "country": "AE",
        "city": "Dubai",
        "languages": ["lus", "en"],
        "email": "mwa.dubai@example.org",
        "description": "Sunday fellowship and help for new arrivals.",
    } | overrides


def find(api: str, timeout_seconds: float = 1.0, **query) -> dict:
    """Search until something is found or the time is up; returns the last answer."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        answer = requests.get(f"{api}/api/v1/search/associations", params=query, timeout=5)
        assert answer.status_code == 200, answer.text
        if answer.json()["total"] or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.02)


def verify(cell_staff, association_id: str) -> dict:
    decided = cell_staff.request(
        "POST", f"/api/v1/associations/{association_id}/verification", json={"decision": "verify"}
    )
    assert decided.status_code == 200, decided.text
    return decided.json()


def test_a_verified_association_is_found_within_a_second(api, person, cell_staff):
    created = person().register_association(name="Ṭhalai Kristian Fellowship", country="AE", city="Dubai")
    assert created["status"] == "pending"
    assert created["location"] == {"lat": pytest.approx(25.08, abs=0.01), "lon": pytest.approx(55.31, abs=0.01)}

    verify(cell_staff, created["id"])

    found = find(api, q="thalai kristian")
    assert [item["id"] for item in found["items"]] == [created["id"]]
    assert found["items"][0]["languages"] == ["lus", "eng"]


def test_a_pending_association_is_seen_by_its_admin_and_the_cell_only(api, person, cell_staff):
    admin = person()
    created = admin.register_association(name=f"Mizo Fellowship {uuid.uuid4().hex[:6]}")

    assert requests.get(f"{api}/api/v1/associations/{created['id']}", timeout=5).status_code == 404
    assert person().request("GET", f"/api/v1/associations/{created['id']}").status_code == 404
    assert admin.request("GET", f"/api/v1/associations/{created['id']}").json()["status"] == "pending"
    assert cell_staff.request("GET", f"/api/v1/associations/{created['id']}").status_code == 200
    verify(cell_staff, created["id"])
    assert requests.get(f"{api}/api/v1/associations/{created['id']}", timeout=5).json()["status"] == "verified"


def test_an_anonymous_reader_stops_seeing_an_association_changed_behind_the_gateway(api, system, person, cell_staff):
    """The gateway keeps anonymous reads (gateway/public_reads.py); the e2e system keeps them a minute, so only the
    registry's event can make it forget a change made without it (here an RPC straight to the registry)."""
    created = person().register_association(name=f"Mizo Fellowship {uuid.uuid4().hex[:6]}")
    verify(cell_staff, created["id"])
    path = f"{api}/api/v1/associations/{created['id']}"
    assert [requests.get(path, timeout=5).json()["status"] for _ in range(2)] == ["verified", "verified"]

    token = cell_staff.headers["Authorization"].removeprefix("Bearer ")
    bus = BusSettings(amqp_uri=system.env["REGISTRY_AMQP_URI"])
    call_service(bus, "registry", "decide_association", token, created["id"], {"decision": "suspend", "reason": "x"})

    deadline = time.monotonic() + 30
    while requests.get(path, timeout=5).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests.get(path, timeout=5).status_code == 404
    assert cell_staff.request("GET", f"/api/v1/associations/{created['id']}").json()["status"] == "suspended"


def test_registering_needs_a_session(api):
    answer = requests.post(f"{api}/api/v1/associations", json=association(), timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"


def test_edits_are_kept_in_the_history(person):
    admin = person()
    created = admin.register_association(city="Dubai")

    edited = admin.request("PATCH", f"/api/v1/associations/{created['id']}", json={"city": "Abu Dhabi"})
    history = admin.request("GET", f"/api/v1/associations/{created['id']}/history").json()["items"]

    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert edited.json()["location"]["lat"] == pytest.approx(24.47, abs=0.05)
    changes = {entry["field"]: (entry["old_value"], entry["new_value"]) for entry in history}
    assert changes["city"] == ("Dubai", "Abu Dhabi")
    assert changes["location"][1]["lat"] == pytest.approx(24.47, abs=0.05)
    assert all(entry["account_id"] == admin.request("GET", "/api/v1/me").json()["account_id"] for entry in history)


def test_the_cell_sees_possible_duplicates_and_merges(person, cell_staff):
    marker = uuid.uuid4().hex[:6]
    first = person().register_association(name=f"Mizo Welfare Association Zx{marker}", country="QA", city="Doha")
    second = person().register_association(name=f"MWA Zx{marker}", country="QA", city="Doha")

    queue = cell_staff.request("GET", "/api/v1/admin/associations", params={"status": "pending", "size": 200}).json()
    [listed] = [item for item in queue["items"] if item["id"] == second["id"]]
    assert [candidate["id"] for candidate in listed["possible_duplicates"]] == [first["id"]]

    merged = cell_staff.request("POST", f"/api/v1/associations/{second['id']}/merge", json={"into": first["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["merged_into"] == first["id"]


@pytest.mark.parametrize("association_id", [str(uuid.uuid4()), "not-an-id"])
def test_an_unknown_association_is_404(api, association_id):
    answer = requests.get(f"{api}/api/v1/associations/{association_id}", timeout=5)

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    assert association_id in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"name": "Mizo Fellowship", ', 400, "not valid JSON"),
        (b"", 400, "no body"),
        (b'["a list"]', 422, "valid dictionary"),
        ({k: v for k, v in association().items() if k != "name"}, 422, "name: Field required"),
        ({k: v for k, v in association().items() if k != "city"}, 422, "city: Field required"),
        (association(country="XX"), 422, "country: 'XX' is not an ISO 3166-1 alpha-2 country code"),
        (association(languages=["lus", "zzz"]), 422, "languages.1: 'zzz' is not an ISO 639-3 language code"),
        (association(email="not-an-address"), 422, "email"),
        (association(phone="12345"), 422, "phone"),
        (association(location={"lat": 91, "lon": 0}), 422, "location.lat"),
        (association(description="x" * (1024 * 1024 + 1)), 413, "too large"),
        ("name=Mizo+Fellowship", 415, "application/json"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_stored(
    person, stored_association_count, body, status, words
):
    someone = person()
    before = stored_association_count()
    if isinstance(body, bytes):
        answer = someone.request(
            "POST", "/api/v1/associations", data=body, headers={"Content-Type": "application/json"}
        )
    elif isinstance(body, str):
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = someone.request("POST", "/api/v1/associations", data=body, headers=form)
    else:
        answer = someone.request("POST", "/api/v1/associations", json=body)

    assert answer.status_code == status, answer.text
    assert words.lower() in answer.json()["message"].lower()
    assert stored_association_count() == before


def test_search_filters_by_country_and_language(api, person, cell_staff):
    marker = uuid.uuid4().hex[:8]
    admin = person()
    for fields in (
        {"name": f"Hmar {marker}", "country": "US", "city": "Houston", "languages": ["hmr"]},
        {"name": f"Mizo {marker}", "country": "US", "city": "Houston"},
        {"name": f"Mizo {marker}", "country": "GB", "city": "London"},
    ):
        verify(cell_staff, admin.register_association(**fields)["id"])
    deadline = time.monotonic() + 5
    while find(api, q=marker)["total"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert find(api, q=marker)["total"] == 3
    assert find(api, q=marker, country="us")["total"] == 2
    assert [item["name"] for item in find(api, q=marker, language="hmr")["items"]] == [f"Hmar {marker}"]


def test_a_bad_search_query_is_refused(api):
    answer = requests.get(f"{api}/api/v1/search/associations", params={"size": 1000}, timeout=5)

    assert answer.status_code == 422
    assert "size" in answer.json()["message"]


def test_an_unknown_path_answers_in_json(api):
    answer = requests.get(f"{api}/api/v1/nothing-here", timeout=5)

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
