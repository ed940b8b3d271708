"""The faults the chaos suite injects, one per row: each process killed, the test vhost's connections dropped,
poison published to every consumer; RabbitMQ and PostgreSQL restarted only with CHAOS_BROKER_RESTARTS=1 (they
would break the tests of others sharing the machine)."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from kombu import Connection

from contracts.topology import SUBSCRIPTIONS, events_exchange
from diasporahub.system import System
from services.catalogue import processes

BROKER_RESTARTS = os.environ.get("CHAOS_BROKER_RESTARTS") == "1"


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[System], None]


def kill(name: str) -> Fault:
    """SIGKILL the process; the supervisor starts it again."""
    return Fault(f"SIGKILL {name}", lambda system: system.processes[name].send_signal(signal.SIGKILL))


def vhost_of(system: System) -> str:
    return unquote(system.env["DIASPORAHUB_AMQP_URI"].rpartition("/")[2])


def drop_connections(system: System) -> None:
    """Close every client connection of the system's own vhost (never others': other tests share the broker)."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "vhost", "pid"], capture_output=True, text=True, check=True
    )
    vhost = vhost_of(system)
    for line in listed.stdout.splitlines():
        connection_vhost, _, pid = line.partition("\t")
        if connection_vhost == vhost:
            subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "chaos test"], capture_output=True)


def malformed_targets() -> set[tuple[str, str]]:
    """(exchange, routing key) of one event each consumer takes: a malformed body is published to each once."""
    return {(events_exchange(sub.events[0].source), sub.events[0].routing_key) for sub in SUBSCRIPTIONS}


def expected_dead_letters() -> dict[str, int]:
    """How many poison messages each dead-letter queue must hold: the malformed bodies routed to its queue, and one
    event of an unknown version."""
    return {
        sub.dead_letter_queue: 1
        + sum((events_exchange(event.source), event.routing_key) in malformed_targets() for event in sub.events)
        for sub in SUBSCRIPTIONS
    }


def publish_poison(system: System) -> None:
    """A malformed event to each consumer (a known routing key, a body that is not JSON), and an event of an unknown
    version straight into each consumer's queue."""
    properties = {"content_type": "application/json", "content_encoding": "utf-8"}
    with Connection(system.env["DIASPORAHUB_AMQP_URI"], transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        for exchange, routing_key in sorted(malformed_targets()):
            producer.publish(b"{not json", exchange=exchange, routing_key=routing_key, **properties)
        for subscription in SUBSCRIPTIONS:
            unknown = {"event_id": "00000000-0000-0000-0000-000000000099", "aggregate_version": 1}
            producer.publish(json.dumps(unknown), exchange="", routing_key=subscription.queue, **properties)


def restart_rabbitmq(_system: System) -> None:
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    time.sleep(2)
    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)


def restart_postgresql(_system: System) -> None:
    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)


def all_faults(listen: str) -> list[Fault]:
    faults = [kill(name) for name in processes(listen)]
    faults += [Fault("drop connections", drop_connections), Fault("poison messages", publish_poison)]
    if BROKER_RESTARTS:
        faults += [Fault("restart RabbitMQ", restart_rabbitmq), Fault("restart PostgreSQL", restart_postgresql)]
    return faults
