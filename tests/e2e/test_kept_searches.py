"""The gateway keeps anonymous association searches (gateway/public_reads.py); a system of their own keeps them a
minute, so that only an association event can make the gateway forget a result that changed."""

import time
import uuid

import pytest

from gateway.public_reads import SEARCH_SETTLE_SECONDS
from servicekit.rpc import call_service
from servicekit.settings import BusSettings
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import running_system
from tests.e2e.test_associations_api import find, verify


@pytest.fixture(scope="module")
def system(rabbit_vhosts, tmp_path_factory):
    home = tmp_path_factory.mktemp("kept-searches")
    with running_system(rabbit_vhosts, home, {"GATEWAY_PUBLIC_SEARCH_CACHE_SECONDS": "60"}) as running:
        yield running


def test_an_anonymous_search_stops_showing_an_association_suspended_behind_the_gateway(system):
    api, cell_staff = system.url, new_cell_staff(system)
    name = f"Mizo Fellowship {uuid.uuid4().hex[:6]}"
    created = Person(api, f"member-{uuid.uuid4().hex[:10]}@example.org").register_association(name=name)
    verify(cell_staff, created["id"])
    assert [item["id"] for item in find(api, q=name)["items"]] == [created["id"]]
    # A search begun within SEARCH_SETTLE_SECONDS of the verification's event is not kept; this one is.
    time.sleep(SEARCH_SETTLE_SECONDS)
    assert [find(api, q=name)["total"] for _ in range(2)] == [1, 1]

    token = cell_staff.headers["Authorization"].removeprefix("Bearer ")
    bus = BusSettings(amqp_uri=system.env["REGISTRY_AMQP_URI"])
    call_service(bus, "registry", "decide_association", token, created["id"], {"decision": "suspend", "reason": "x"})

    deadline = time.monotonic() + 30
    while find(api, q=name)["total"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert find(api, q=name)["items"] == []
    staff_view = cell_staff.request("GET", "/api/v1/search/associations", params={"q": name, "status": "suspended"})
    assert [item["id"] for item in staff_view.json()["items"]] == [created["id"]]
