"""Registering and finding associations over HTTP, through every service."""

import time
import uuid

import pytest
import requests


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


def test_a_registered_association_is_found_within_a_second(api):
    created = requests.post(
        f"{api}/api/v1/associations", json=association(name="Ṭhalai Kristian Fellowship"), timeout=5
    )

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"
    found = find(api, q="thalai kristian")
    assert [item["id"] for item in found["items"]] == [created.json()["id"]]
    assert found["items"][0]["languages"] == ["lus", "eng"]


def test_an_association_can_be_read_back_by_id(api):
    created = requests.post(f"{api}/api/v1/associations", json=association(country="sg"), timeout=5).json()

    answer = requests.get(f"{api}/api/v1/associations/{created['id']}", timeout=5)

    assert answer.status_code == 200
    assert answer.json() | {"id": None} == answer.json() | {
        "id": None,
        "name": "Mizo Welfare Association Dubai",
        "country": "SG",
        "status": "pending",
        "version": 1,
    }


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
        (association(description="x" * (1024 * 1024 + 1)), 413, "too large"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_stored(api, stored_association_count, body, status, words):
    before = stored_association_count()
    if isinstance(body, bytes):
        answer = requests.post(f"{api}/api/v1/associations", data=body, timeout=5)
    else:
        answer = requests.post(f"{api}/api/v1/associations", json=body, timeout=5)

    assert answer.status_code == status, answer.text
    assert words.lower() in answer.json()["message"].lower()
    assert stored_association_count() == before


def test_search_filters_by_country_and_language(api):
    marker = uuid.uuid4().hex[:8]
    requests.post(
        f"{api}/api/v1/associations",
        json=association(name=f"Hmar {marker}", country="US", languages=["hmr"]),
        timeout=5,
    )
    requests.post(f"{api}/api/v1/associations", json=association(name=f"Mizo {marker}", country="US"), timeout=5)
    requests.post(f"{api}/api/v1/associations", json=association(name=f"Mizo {marker}", country="GB"), timeout=5)
    find(api, q=f"mizo {marker}")
    time.sleep(0.3)

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
