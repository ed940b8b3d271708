"""One request can be followed through every service's JSON log by its call id."""

import json
import time


def log_lines(system, service: str) -> list[dict]:
    return [json.loads(line) for line in (system.log_dir / f"{service}.log").read_text().splitlines() if line]


def lines_about(system, service: str, words: str) -> list[dict]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [line for line in log_lines(system, service) if words in line["message"]]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_the_call_id_of_a_registration_travels_over_rpc_and_through_the_event(system, person):
    created = person().register_association(name="Mizo Fellowship Oslo", country="NO", city="Oslo")

    [registered] = lines_about(system, "registry", f"registered association {created['id']}")
    [indexed] = lines_about(system, "search", f"indexed association {created['id']}")

    gateway_call, registry_call = registered["call_id"].split(">")
    assert gateway_call.startswith("gateway.register_association.")
    assert registry_call.startswith("registry.register_association.")
    assert indexed["call_id"].startswith(registered["call_id"] + ">search.index_association.")
    assert all(line["service"] == "search" for line in log_lines(system, "search"))
