"""Every service serves Prometheus metrics and its health on its own port (`<SERVICE>_METRICS_LISTEN`): after people
sign up, register, are verified, searched for, written to and asked for help, each service's /metrics counts what it
did."""

import json
import time
import uuid

import pytest
import requests
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from contracts.topology import SEARCH_INDEXER
from services.catalogue import CATALOGUE, processes
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import free_port, running_system
from tests.e2e.test_alerts_api import help_request


@pytest.fixture(scope="module")
def metered(rabbit_vhosts, postgres_databases, tmp_path_factory):
    """The whole system with a metrics port for every process (services and relays); (system, {process: URL})."""
    home = tmp_path_factory.mktemp("metered")
    ports = {name: free_port() for name in processes("")}
    settings = {
        "REGISTRY_DATABASE_URL": postgres_databases.create(),
        "MESSAGING_DATABASE_URL": f"sqlite:///{home / 'messaging.sqlite3'}",
        "MESSAGING_DELIVERY_POLL_SECONDS": "0.2",
        "ALERTS_DATABASE_URL": f"sqlite:///{home / 'alerts.sqlite3'}",
        **{f"{name.upper().replace('-', '_')}_METRICS_LISTEN": f"127.0.0.1:{port}" for name, port in ports.items()},
    }
    with running_system(rabbit_vhosts, home, settings) as system:
        yield system, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


def eventually(attempt, timeout_seconds: float = 20.0):
    deadline = time.monotonic() + timeout_seconds
    while not (result := attempt()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def samples(url: str) -> list:
    answer = requests.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return [sample for family in text_string_to_metric_families(answer.text) for sample in family.samples]


def total(found: list, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for sample in found
        if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
    )


@pytest.fixture(scope="module")
def after_a_journey(metered):
    """A member registers an association, the Cell verifies it, someone finds it and writes to it, and asks it for
    help twice: the association claims the first request, the second waits."""
    system, metrics_urls = metered
    member = Person(system.url, f"member-{uuid.uuid4().hex[:8]}@example.org")
    name = f"Metered Fellowship {uuid.uuid4().hex[:6]}"
    association = member.register_association(name=name, country="IN", city="Pune", email="metered@example.org")
    cell = new_cell_staff(system)
    decided = cell.request(
        "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
    )
    assert decided.status_code == 200, decided.text
    found = eventually(
        lambda: requests.get(f"{system.url}/api/v1/search/associations", params={"q": name}, timeout=10).json()["total"]
    )
    assert found == 1
    writer = Person(system.url, f"writer-{uuid.uuid4().hex[:8]}@example.org")
    body = {"participants": [association["id"]], "subject": "Hello", "body": "Can we meet?"}
    started = eventually(
        lambda: (answer := writer.request("POST", "/api/v1/conversations", json=body)).status_code == 201 and answer
    )
    assert started, "the conversation was not started"
    claimed, waiting = (writer.request("POST", "/api/v1/alerts", json=help_request("Pune", "IN")) for _ in range(2))
    assert claimed.status_code == waiting.status_code == 201, (claimed.text, waiting.text)
    claim = member.request(
        "POST", f"/api/v1/alerts/{claimed.json()['id']}/claim", json={"association_id": association["id"]}
    )
    assert claim.status_code == 200, claim.text
    return metrics_urls


def test_every_service_is_live_and_ready_on_its_metrics_port(after_a_journey):
    """Each checks the broker and its own store: its database, or for search its engine (which holds the database)."""
    for entry in CATALOGUE:
        url = after_a_journey[entry.name]
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200, entry.name
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, (entry.name, ready.text)
        checks = ready.json()["checks"]
        store = [] if entry.migrations is None else ["search_engine" if entry.name == "search" else "database"]
        assert set(checks) >= {"broker", *store} and all(checks.values()), (entry.name, checks)


def test_every_relay_and_the_delivery_sender_serve_their_process_metrics(after_a_journey):
    apart = [name for name in processes("") if name.endswith(("-relay", "-sender"))]

    assert "messaging-sender" in apart
    for name in apart:
        assert [s for s in samples(after_a_journey[name]) if s.name == "process_cpu_seconds_total"] != [], name


def test_each_service_times_its_rpc_methods_and_the_gateway_its_routes(after_a_journey):
    registry, search, messaging, gateway = (
        samples(after_a_journey[name]) for name in ("registry", "search", "messaging", "gateway")
    )
    timed = "diasporahub_entrypoint_duration_seconds_count"

    assert total(registry, timed, kind="rpc", entrypoint="register_association", outcome="ok") >= 1
    assert total(search, timed, kind="rpc", entrypoint="search_associations", outcome="ok") >= 1
    assert total(messaging, timed, kind="rpc", outcome="ok") >= 1
    route = "diasporahub_http_request_duration_seconds_count"
    assert total(gateway, route, route="/api/v1/associations", method="POST", status="201") >= 1
    assert total(gateway, route, route="/api/v1/search/associations", method="GET", status="200") >= 1


def test_events_are_counted_where_published_and_consumed_and_the_outbox_is_read_on_each_scrape(after_a_journey):
    registry, search, messaging = (samples(after_a_journey[name]) for name in ("registry", "search", "messaging"))
    publisher = samples(after_a_journey["registry-relay"])

    assert total(publisher, "diasporahub_events_published_total", exchange="registry.events") >= 2
    assert total(search, "diasporahub_events_consumed_total", outcome="handled") >= 2
    assert total(messaging, "diasporahub_events_consumed_total", outcome="handled") >= 2
    assert total(registry, "diasporahub_outbox_backlog", service="registry") == 0
    assert [s for s in registry if s.name == "diasporahub_outbox_oldest_unsent_age_seconds"] != []


def test_messaging_counts_its_deliveries_by_channel_and_state(after_a_journey):
    deliveries = eventually(
        lambda: total(samples(after_a_journey["messaging"]), "diasporahub_messaging_deliveries", channel="email")
    )

    assert deliveries >= 1


def test_alerts_counts_help_requests_by_status_the_oldest_unclaimed_and_the_time_to_claim(after_a_journey):
    alerts = samples(after_a_journey["alerts"])

    assert total(alerts, "diasporahub_help_requests", status="claimed") == 1
    assert total(alerts, "diasporahub_help_requests", status="open") == 1
    assert total(alerts, "diasporahub_help_requests_oldest_unclaimed_age_seconds", urgency="immediate") > 0
    assert total(alerts, "diasporahub_help_requests_time_to_claim_seconds_count", urgency="immediate") == 1
    assert total(alerts, "diasporahub_help_requests_time_to_claim_seconds_sum", urgency="immediate") > 0
    assert total(alerts, "diasporahub_help_requests_time_to_claim_seconds_bucket", urgency="immediate", le="+Inf") == 1


def test_each_http_request_is_logged_with_its_call_id_and_route_never_with_what_was_searched_for(
    metered, after_a_journey
):
    system, _urls = metered
    lines = [json.loads(line) for line in (system.log_dir / "gateway.log").read_text().splitlines() if line]
    access = [line for line in lines if line["logger"] == "servicekit.access"]

    assert any(line["message"].startswith("GET /api/v1/search/associations 200 in ") for line in access)
    assert all(line["call_id"].startswith("gateway.") for line in access)
    assert not [line for line in lines if line["logger"] == "nameko.web.server" or "q=Metered" in line["message"]]


def test_poison_is_counted_as_dead_lettered_by_the_consumer_it_reached_with_the_reason(metered, after_a_journey):
    """A body that is not JSON cannot be decoded; JSON under a routing key no event has cannot be read as an event."""
    system, _urls = metered
    queue = SEARCH_INDEXER.queue
    properties = {"exchange": "", "routing_key": queue, "content_type": "application/json", "content_encoding": "utf-8"}
    with Connection(system.env["DIASPORAHUB_AMQP_URI"], transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(b"{not json", **properties)
        connection.Producer().publish(b'{"event_id": "00000000-0000-0000-0000-000000000099"}', **properties)

    def dead_lettered(reason: str) -> float:
        found = samples(after_a_journey["search"])
        return total(found, "diasporahub_events_dead_lettered_total", queue=queue, reason=reason)

    assert eventually(lambda: dead_lettered("undecodable") and dead_lettered("unreadable"))
    assert (dead_lettered("undecodable"), dead_lettered("unreadable")) == (1, 1)
