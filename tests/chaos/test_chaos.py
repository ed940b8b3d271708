"""`make chaos`: load through the gateway while each fault is injected in turn, then proof from HTTP and the
databases that nothing accepted was lost or doubled, and one table of what each fault cost.

The system runs on a RabbitMQ node and a PostgreSQL cluster of the suite's own (tests/private_servers.py), which the
restart rows stop and start: the machine's shared ones, which other tests use meanwhile, are never touched. It runs
twice, one after the other: first with the registry on PostgreSQL and messaging, alerts and search on SQLite on a
small disk (every row but one), then with registry, messaging and alerts each on a PostgreSQL database of its own
for the PostgreSQL restart's row. Each has two gateway processes on one port, so a killed one leaves the other
answering."""

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from kombu import Connection
from sqlalchemy import create_engine, func, select

from diasporahub.dead_letters import counts
from diasporahub.supervisor import RestartPolicy, Supervisor
from diasporahub.system import System
from services.registry.db import AccountRecord, AssociationRecord
from tests.chaos.faults import NOTES, Fault, embedded_faults, expected_dead_letters, postgresql_faults
from tests.chaos.help_requests import help_requests_lost
from tests.chaos.inboxes import inbox_copies_lost_and_duplicated
from tests.chaos.load import HELP_CITY, HELP_COUNTRY, Answer, Load, Stage
from tests.chaos.readiness import wait_until_every_gateway_listens, wait_until_ready
from tests.chaos.report import table
from tests.conftest import PostgresDatabases, RabbitVhosts
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import started, system_environment
from tests.messaging_servers import free_port

LOAD_SECONDS = 6.0
FAULT_AFTER_SECONDS = 1.5
CLIENTS = 4
SETTLE_SECONDS = 90.0
SMALL_DISK_SIZE = "96m"
# Two gateway processes on one port (SO_REUSEPORT): killing either leaves the other answering.
GATEWAY_PROCESSES = 2
STAGING_ATTEMPTS = 3
LOAD_SETTINGS = {
    "REGISTRY_SIGN_UPS_PER_ADDRESS": "100000",
    "ALERTS_REQUESTS_PER_HOUR_PER_ADDRESS": "100000",
    "ALERTS_REQUESTS_PER_HOUR_PER_ACCOUNT": "100000",
    "MESSAGING_POSTS_PER_MINUTE": "100000",
    "MESSAGING_BROADCASTS_PER_HOUR": "100000",
    # A call to a service that is down waits for its timeout before the gateway answers 503: at the default 5 s
    # that answer comes a little after 5 s; the issue asks for it within 5 s.
    "DIASPORAHUB_RPC_TIMEOUT_SECONDS": "4",
    # A round of matching that failed (search or messaging away) is taken again after the lease: sooner here.
    "ALERTS_MATCHING_LEASE_SECONDS": "10",
}


def eventually(condition, timeout_seconds: float, what: str):
    deadline = time.monotonic() + timeout_seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_seconds:g} s"
        time.sleep(0.5)
    return result


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A small file system of its own (tmpfs) for the embedded SQLite databases, so that the disk-full row fills it
    and nothing else. None, and that row left out with a note saying why, where mounting is not allowed."""
    folder = tmp_path_factory.mktemp("small-disk")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_SIZE}", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        NOTES.append(f"no 'SQLite disk full' row: a tmpfs cannot be mounted here ({mounted.stderr.strip()})")
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


@contextmanager
def supervised_system(broker, home: Path, settings: dict[str, str]) -> Iterator[System]:
    """The whole system on the suite's broker, `settings` on top of the load's, with GATEWAY_PROCESSES gateway
    processes on one port, kept up by `diasporahub run`'s supervisor."""
    env = system_environment(RabbitVhosts(broker.management_url, broker.amqp_url), home, LOAD_SETTINGS | settings)
    system = System(listen=f"127.0.0.1:{free_port()}", env=env, log_dir=home / "log",
                    gateway_processes=GATEWAY_PROCESSES)  # fmt: skip
    system.prepare()
    with started(system):
        stopping = threading.Event()
        supervisor = Supervisor(system, RestartPolicy(first_delay_seconds=0.5, quick_death_seconds=5))
        supervisor.started()

        def watch():
            while not stopping.is_set():
                supervisor.check()
                time.sleep(0.2)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            yield system
        finally:
            stopping.set()
            watcher.join()


@dataclass
class Rows:
    """The load's answers in some rows of the table, what was found lost or doubled, the requests asked again."""

    answers: list[Answer] = field(default_factory=list)
    lost: list[tuple] = field(default_factory=list)
    duplicated: list[tuple] = field(default_factory=list)
    asked_again: list[tuple[str, str]] = field(default_factory=list)

    def __add__(self, other: "Rows") -> "Rows":
        return Rows(self.answers + other.answers, self.lost + other.lost, self.duplicated + other.duplicated,
                    self.asked_again + other.asked_again)  # fmt: skip


def under_load(system: System, faults: list[Fault]) -> Rows:
    """Each fault injected in turn under the load, then every accepted write looked for: over HTTP, and in the
    registry's, messaging's and alerts' databases."""
    wait_until_ready(system, "after starting")
    scene, cell = stage(system)
    load = Load(scene, CLIENTS)
    for fault in faults:
        load.start(fault.name)
        time.sleep(FAULT_AFTER_SECONDS)
        fault.inject(system)
        time.sleep(LOAD_SECONDS - FAULT_AFTER_SECONDS)
        load.stop()
        wait_until_ready(system, f"after {fault.name}")
        wait_until_every_gateway_listens(system, f"after {fault.name}")
    lost, duplicated = find_lost_and_duplicated(load.answers, scene, cell, system.env["REGISTRY_DATABASE_URL"])
    lost_copies, duplicated_copies = inbox_copies_lost_and_duplicated(
        load.answers, scene, system.env["MESSAGING_DATABASE_URL"], SETTLE_SECONDS
    )
    lost_help = help_requests_lost(load.answers, scene, system.env["ALERTS_DATABASE_URL"], SETTLE_SECONDS)
    return Rows(load.answers, lost + lost_copies + lost_help, duplicated + duplicated_copies, load.asked_again)


def stage(system) -> tuple[Stage, Person]:
    """A secretary, three verified associations near the help requests' city, and a conversation of two others (so
    that the helpers' inboxes hold only what help requests told them)."""
    cell = staged(lambda: new_cell_staff(system))
    helpers = [staged(lambda: verified_association(system, cell, HELP_COUNTRY, HELP_CITY)) for _ in range(3)]
    talking = [staged(lambda: verified_association(system, cell, "AE", "Dubai")) for _ in range(2)]
    body = {"from_association_id": talking[0][1], "participants": [talking[1][1]], "subject": "Chaos", "body": "Hi"}
    started = eventually(
        lambda: (
            (answer := talking[0][0].request("POST", "/api/v1/conversations", json=body)).status_code == 201 and answer
        ),
        60,
        "the conversation starting",
    )
    secretary = Person(system.url, f"chaos-secretary-{uuid.uuid4().hex[:8]}@example.org")
    conversation = f"/api/v1/conversations/{started.json()['id']}"
    return Stage(system.url, cell, secretary, conversation, talking[0][0], helpers), cell


def staged(step):
    """A step of staging (not measured), taken again while a call in it is answered 503 because the loaded machine
    made a service miss the RPC timeout (signing up hashes a password: seconds of CPU on a busy machine)."""
    for attempt in range(1, STAGING_ATTEMPTS + 1):
        try:
            return step()
        except AssertionError as exc:
            if attempt == STAGING_ATTEMPTS or '"unavailable"' not in str(exc):
                raise
        time.sleep(2)


def verified_association(system, cell: Person, country: str, city: str) -> tuple[Person, str]:
    admin = Person(system.url, f"chaos-admin-{uuid.uuid4().hex[:8]}@example.org")
    association = admin.register_association(
        name=f"Chaos Fellowship {city} {uuid.uuid4().hex[:6]}", country=country, city=city, email="chaos@example.org"
    )
    verified = cell.request(
        "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
    )
    assert verified.status_code == 200, verified.text
    return admin, association["id"]


def test_nothing_accepted_is_lost_or_doubled_whatever_fails(broker, database_server, small_disk, tmp_path_factory):
    databases = PostgresDatabases(database_server.url)
    home = tmp_path_factory.mktemp("chaos")
    embedded = {
        "REGISTRY_DATABASE_URL": databases.create(),
        **{f"{name.upper()}_DATABASE_URL": f"sqlite:///{(small_disk or home) / name}.sqlite3"
           for name in ("messaging", "alerts", "search")},
    }  # fmt: skip
    with supervised_system(broker, home, embedded) as system:
        rows = under_load(system, embedded_faults(system, small_disk, broker))
        dead_letters = dead_letters_listed(system)
    # Every service with a SQL database on the suite's PostgreSQL, each in a database of its own; search's embedded
    # engine keeps its index in SQLite only (services/search/settings.py refuses another URL), in the home folder.
    on_postgresql = {f"{name.upper()}_DATABASE_URL": databases.create() for name in ("registry", "messaging", "alerts")}
    with supervised_system(broker, tmp_path_factory.mktemp("chaos-postgresql"), on_postgresql) as system:
        rows += under_load(system, postgresql_faults(database_server))

    print("\n" + table(rows.answers, rows.lost, rows.duplicated))
    for note in NOTES:
        print(note)
    for (fault, operation), count in Counter(rows.asked_again).items():
        print(f"asked again: {count} × {operation} after a broken connection ({fault})")
    refusals = Counter((answer.fault, answer.operation, answer.status) for answer in rows.answers
                       if answer.status >= 300 and answer.status != 503)  # fmt: skip
    for (fault, operation, status), count in refusals.items():
        print(f"other: {count} × {operation} answered {status} ({fault})")
    unanswered = Counter((answer.fault, answer.operation) for answer in rows.answers if answer.status == 0)
    for (fault, operation), count in unanswered.items():
        print(f"no answer: {count} × {operation} ({fault})")
    for kind, found in (("lost", rows.lost), ("duplicated", rows.duplicated)):
        for fault, operation, key in dict.fromkeys(found):
            print(f"{kind}: {operation} {key} ({fault})")
    refused = [answer for answer in rows.answers if answer.status == 503]
    refused_late = [answer for answer in refused if answer.seconds > 5]
    refused_unexplained = [answer for answer in refused if not (answer.body.get("message") and answer.retry_after)]
    assert not rows.lost, rows.lost
    assert not rows.duplicated, rows.duplicated
    assert not refused_late, refused_late
    assert not refused_unexplained, refused_unexplained
    for queue, expected in expected_dead_letters().items():
        assert dead_letters[queue] >= expected, (queue, dead_letters[queue], expected)


def find_lost_and_duplicated(answers: list[Answer], scene: Stage, cell: Person, database_url: str):
    """What was accepted (2xx) and is not there, and what is there more than once, as (fault, operation, key)."""
    lost, duplicated = [], []

    def check(answer: Answer, stored: int) -> None:
        if answer.accepted and stored == 0:
            lost.append((answer.fault, answer.operation, answer.key))
        if stored > 1:
            duplicated.append((answer.fault, answer.operation, answer.key))
        if answer.status == 0:  # its connection broke after it was sent: done or not, never twice
            NOTES.append(f"no answer, then stored {stored} time(s): {answer.operation} {answer.key} ({answer.fault})")

    engine = create_engine(database_url)
    with engine.connect() as connection:
        for answer in of(answers, "register"):
            query = select(func.count()).select_from(AssociationRecord).where(AssociationRecord.name == answer.key)
            check(answer, connection.execute(query).scalar_one())
        for answer in of(answers, "sign up"):
            query = select(func.count()).select_from(AccountRecord).where(AccountRecord.email == answer.key)
            check(answer, connection.execute(query).scalar_one())
    engine.dispose()
    for answer in of(answers, "register", accepted=True):
        searchable = eventually(lambda name=answer.key: cell_finds(cell, name), SETTLE_SECONDS, f"finding {answer.key}")
        check(answer, searchable)
    for answer in of(answers, "sign up", accepted=True):
        if not signs_in(scene.api, answer.key):
            lost.append((answer.fault, "sign in", answer.key))
    messages = scene.poster.request("GET", scene.conversation_path).json()["messages"]
    bodies = Counter(message["body"] for message in messages)
    for answer in of(answers, "post message"):
        check(answer, bodies[answer.key])
    edits = {answer.key.partition(" ")[0]: answer.key.partition(" ")[2] for answer in of(answers, "edit", True)}
    for association_id, description in edits.items():
        seen = scene.secretary.request("GET", f"/api/v1/associations/{association_id}").json()
        if not (seen.get("description") or "").startswith("Edited"):
            lost.append(("edit", "edit", f"{association_id} {description}"))
    return lost, duplicated


def signs_in(api: str, email: str) -> bool:
    """The account signs in over HTTP; an answer that is not the account's (503, no answer: the machine is busy) is
    asked again for a while."""
    credentials = {"email": email, "password": "correct horse battery staple"}
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            status = requests.post(f"{api}/api/v1/auth/login", json=credentials, timeout=15).status_code
        except requests.RequestException:
            status = 0
        if status == 200 or 400 <= status < 500 or time.monotonic() > deadline:
            return status == 200
        time.sleep(1)


def of(answers: list[Answer], operation: str, accepted: bool = False) -> list[Answer]:
    return [answer for answer in answers if answer.operation == operation and (answer.accepted or not accepted)]


def cell_finds(cell: Person, name: str) -> int:
    found = cell.request("GET", "/api/v1/search/associations", params={"q": name, "status": "pending"}).json()
    return sum(item["name"] == name for item in found.get("items", []))


def dead_letters_listed(system) -> dict[str, int]:
    """The dead-letter counts, which `diasporahub dead-letters` must list."""
    listed = subprocess.run([sys.executable, "-m", "diasporahub.cli", "dead-letters"], env=system.env,
                            capture_output=True, text=True)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    with Connection(system.env["DIASPORAHUB_AMQP_URI"]) as connection:
        found = counts(connection)
    for queue, count in found.items():
        assert f"{count:8d}  {queue}" in listed.stdout
    return found
