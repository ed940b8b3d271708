"""The faults the chaos suite injects, one per row: each process killed, every broker connection dropped, poison
published to every consumer, the outbox relays held then let catch up, the embedded SQLite folder's disk filled
then freed, RabbitMQ restarted (`stop_app`/`start_app`) and PostgreSQL restarted. The broker and PostgreSQL are the
suite's own (tests/private_servers.py), never the machine's shared ones."""

import errno
import json
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kombu import Connection
from sqlalchemy import create_engine, text

from contracts.topology import SUBSCRIPTIONS, events_exchange
from diasporahub.system import System
from tests.private_servers import PrivatePostgres, PrivateRabbitNode

DISK_FULL_SECONDS = 2.5
RELAYS_HELD_SECONDS = 4.0
SERVER_DOWN_SECONDS = 2.0
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


def drop_connections(broker: PrivateRabbitNode) -> Callable[[System], None]:
    """Close every client connection of the suite's broker node (all of them the system's)."""
    return lambda _system: broker.ctl("close_all_connections", "chaos test")


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


def restart_rabbitmq(broker: PrivateRabbitNode) -> Callable[[System], None]:
    """`rabbitmqctl stop_app`, a pause, `start_app`: every connection is closed, exclusive queues go."""

    def inject(_system: System) -> None:
        stopping = time.monotonic()
        broker.stop_app()
        stopped = time.monotonic()
        time.sleep(SERVER_DOWN_SECONDS)
        starting = time.monotonic()
        broker.start_app()
        # Most of stop_app's time is rabbitmqctl's own start on a loaded machine (the node's log shows the stop
        # asked for ~20 s after the command ran); the node then stops in about 5 s.
        NOTES.append(f"RabbitMQ restart: rabbitmqctl stop_app returned after {stopped - stopping:.1f} s, "
                     f"{SERVER_DOWN_SECONDS:g} s stopped, start_app until the management API answered "
                     f"{time.monotonic() - starting:.1f} s")  # fmt: skip

    return inject


def restart_postgresql(database: PrivatePostgres) -> Callable[[System], None]:
    """A fast shutdown (every connection closed, transactions in flight rolled back), a pause, a start."""

    def inject(_system: System) -> None:
        stopped = time.monotonic()
        database.stop_server()
        time.sleep(SERVER_DOWN_SECONDS)
        database.start_server()
        NOTES.append(f"PostgreSQL restart: the server was away {time.monotonic() - stopped:.1f} s")

    return inject


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


def embedded_faults(system: System, small_disk: Path | None, broker: PrivateRabbitNode) -> list[Fault]:
    """The rows of the system whose messaging, alerts and search keep their SQLite databases on the small disk:
    every process it runs killed (each gateway process among them), then the broker's faults and the disk's."""
    faults = [kill(name) for name in system.plan]
    faults += [Fault("drop connections", drop_connections(broker)), Fault("poison messages", publish_poison)]
    faults += [Fault("relays held, catch-up", hold_relays)]
    if small_disk is not None:
        faults.append(Fault("SQLite disk full", fill_disk(small_disk)))
    faults += [Fault("restart RabbitMQ", restart_rabbitmq(broker))]
    return faults


def postgresql_faults(database: PrivatePostgres) -> list[Fault]:
    """The row of the system whose every SQL database is on the suite's PostgreSQL cluster."""
    return [Fault("restart PostgreSQL", restart_postgresql(database))]
