"""The faults the chaos suite injects, one per row: each process killed, the test vhost's connections dropped,
poison published to every consumer, the embedded SQLite folder's disk filled then freed, the outbox relays held
then let catch up; RabbitMQ and PostgreSQL restarted only with CHAOS_BROKER_RESTARTS=1 (they would break the tests
of others sharing the machine)."""

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from kombu import Connection
from sqlalchemy import create_engine, text

from contracts.topology import SUBSCRIPTIONS, events_exchange
from diasporahub.system import System
from services.catalogue import processes

BROKER_RESTARTS = os.environ.get("CHAOS_BROKER_RESTARTS") == "1"
DISK_FULL_SECONDS = 2.5
RELAYS_HELD_SECONDS = 4.0
CATCH_UP_SECONDS = 60.0
DATABASES = ("REGISTRY_DATABASE_URL", "MESSAGING_DATABASE_URL", "ALERTS_DATABASE_URL")
# Lines printed under the table: what a fault measured besides the load's answers.
NOTES: list[str] = []


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


def fill_disk(folder: Path) -> Callable[[System], None]:
    """Write until the folder's file system is full, keep it full for a moment, then free it."""

    def inject(_system: System) -> None:
        filler = folder / "filler"
        try:
            with filler.open("wb") as file:
                while True:
                    file.write(b"\0" * (1 << 20))
                    file.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        left = shutil.disk_usage(folder).free
        time.sleep(DISK_FULL_SECONDS)
        filled = filler.stat().st_size
        filler.unlink()
        NOTES.append(f"SQLite disk full: {filled >> 20} MiB written until ENOSPC, {left} bytes left, "
                     f"for {DISK_FULL_SECONDS:g} s")  # fmt: skip

    return inject


def unsent_events(system: System, up_to: dict[str, int] | None = None) -> dict[str, int]:
    """The id of the newest unpublished event in each of the outboxes of registry, messaging and alerts (0: none),
    counting only those up to `up_to`'s ids when given."""
    newest = {}
    for variable in DATABASES:
        engine = create_engine(system.env[variable])
        limit = "" if up_to is None else f" AND id <= {int(up_to[variable])}"
        try:
            with engine.connect() as connection:
                newest[variable] = connection.execute(
                    text(f"SELECT coalesce(max(id), 0) FROM outbox_messages WHERE sent_at IS NULL{limit}")
                ).scalar_one()
        finally:
            engine.dispose()
    return newest


def waiting_events(system: System) -> int:
    """How many events wait in those outboxes."""
    engine_counts = 0
    for variable in DATABASES:
        engine = create_engine(system.env[variable])
        try:
            with engine.connect() as connection:
                engine_counts += connection.execute(
                    text("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
                ).scalar_one()
        finally:
            engine.dispose()
    return engine_counts


def hold_relays(system: System) -> None:
    """Stop every outbox relay (as a broker they cannot reach would), let events pile up, then let them go on:
    each catches up in batches of its own size, and a note under the row says how many waited and how long
    publishing them took (the load goes on meanwhile)."""
    relays = [process for name, process in system.processes.items() if name.endswith("-relay")]
    for relay in relays:
        relay.send_signal(signal.SIGSTOP)
    time.sleep(RELAYS_HELD_SECONDS)
    waited, held = waiting_events(system), unsent_events(system)
    resumed = time.monotonic()
    for relay in relays:
        relay.send_signal(signal.SIGCONT)
    while any(unsent_events(system, up_to=held).values()) and time.monotonic() - resumed < CATCH_UP_SECONDS:
        time.sleep(0.1)
    caught_up = not any(unsent_events(system, up_to=held).values())
    outcome = "all published" if caught_up else "NOT all published"
    NOTES.append(
        f"relays held {RELAYS_HELD_SECONDS:g} s: {waited} events waited; {outcome} "
        f"{time.monotonic() - resumed:.1f} s after the relays went on"
    )


def all_faults(listen: str, small_disk: Path | None) -> list[Fault]:
    faults = [kill(name) for name in processes(listen)]
    faults += [Fault("drop connections", drop_connections), Fault("poison messages", publish_poison)]
    faults += [Fault("relays held, catch-up", hold_relays)]
    if small_disk is not None:
        faults.append(Fault("SQLite disk full", fill_disk(small_disk)))
    if BROKER_RESTARTS:
        faults += [Fault("restart RabbitMQ", restart_rabbitmq), Fault("restart PostgreSQL", restart_postgresql)]
    return faults
