"""With the search service down, registrations still succeed and nothing is lost when it returns."""

import time
import uuid

import requests


def test_associations_registered_while_search_is_down_are_all_found_after_it_returns(system, api, person, cell_staff):
    marker = uuid.uuid4().hex[:10]
    admin = person()
    system.stop("search")
    try:
        readiness = requests.get(f"{api}/readyz", timeout=10)
        assert readiness.status_code == 503
        checks = readiness.json()["checks"]
        assert checks["search"] is False
        assert all(answered for name, answered in checks.items() if name != "search"), checks

        for number in range(100):
            created = admin.register_association(
                name=f"Mizo Association {marker} number {number}",
                country="IN",
                city="Delhi",
                languages=["lus"],
                email=f"secretary{number}@example.org",
            )
            decided = cell_staff.request(
                "POST", f"/api/v1/associations/{created['id']}/verification", json={"decision": "verify"}
            )
            assert decided.status_code == 200, decided.text
    finally:
        system.start("search")
    system.wait_until_ready(30)

    deadline = time.monotonic() + 15
    total = 0
    while time.monotonic() < deadline and total < 100:
        found = requests.get(f"{api}/api/v1/search/associations", params={"q": marker, "size": 100}, timeout=5)
        total = found.json()["total"]
        time.sleep(0.1)
    assert total == 100
    assert len({item["id"] for item in found.json()["items"]}) == 100
