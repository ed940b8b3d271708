"""The whole system comes back by itself after RabbitMQ or PostgreSQL restarts, every process the one started (no
supervisor here: a service that died or hung would stay so), on a broker node and a PostgreSQL cluster of this
module's own (tests/chaos/conftest.py).

RabbitMQ, stopped while registrations are in flight (workers then finish with the broker away: before the fix their
acknowledgement or reply killed the registry's and search's containers, and the processes lived on serving
nothing): while it is away a write is answered 503 with Retry-After at once; after `start_app` the system is ready
again, an RPC works, an event published after the restart is consumed (search finds a new association), an event
written to the registry's outbox while the broker was away is published and consumed, every registration accepted
around the restart is found, and the gateway has bound a new queue for the association events it listens to (its
exclusive queue went with the broker). PostgreSQL: while it
is away the registry's writes are answered 503 with Retry-After and its own /readyz says its database is false;
after the restart both are fine again."""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial

import pytest
import requests
from sqlalchemy.orm import sessionmaker

from contracts.associations import AssociationPatch
from servicekit.database import UnitOfWork, create_database_engine
from services.registry.accounts.repository import AccountRepository
from services.registry.associations import handlers
from services.registry.associations.repository import AssociationRepository
from services.registry.db import Base
from tests.chaos.readiness import wait_until_ready
from tests.conftest import PostgresDatabases, RabbitVhosts
from tests.e2e.conftest import Person, new_cell_staff
from tests.e2e.running import running_system
from tests.messaging_servers import free_port

SETTLE_SECONDS = 60.0
REFUSED_WITHIN_SECONDS = 5.0
REGISTERING_CLIENTS = 3


@pytest.fixture(scope="module")
def registry_database_url(database_server):
    return PostgresDatabases(database_server.url).create()


@pytest.fixture(scope="module")
def system(broker, registry_database_url, tmp_path_factory):
    settings = {
        "REGISTRY_DATABASE_URL": registry_database_url,
        "REGISTRY_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
        "DIASPORAHUB_RPC_TIMEOUT_SECONDS": "4",
    }
    home = tmp_path_factory.mktemp("restarts")
    with running_system(RabbitVhosts(broker.management_url, broker.amqp_url), home, settings) as running:
        yield running


@pytest.fixture(scope="module")
def people(system):
    """A Cell account (it searches pending associations) and a secretary who registers them."""
    return new_cell_staff(system), Person(system.url, f"restarts-{uuid.uuid4().hex[:8]}@example.org")


def register(secretary: Person, name: str) -> requests.Response:
    body = {"name": name, "country": "AE", "city": "Dubai", "languages": ["lus"], "email": "restarts@example.org"}
    return secretary.request("POST", "/api/v1/associations", json=body)


def found_by_search(cell: Person, name: str) -> bool:
    answer = cell.request("GET", "/api/v1/search/associations", params={"q": name, "status": "pending"})
    return answer.ok and any(item["name"] == name for item in answer.json()["items"])


def eventually(condition, what: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {SETTLE_SECONDS:g} s"
        time.sleep(0.5)


def assert_refused_at_once(answer: requests.Response, seconds: float) -> None:
    """503, Retry-After, a sentence, within the time the issue allows."""
    assert answer.status_code == 503, answer.text
    assert answer.headers.get("Retry-After"), answer.headers
    assert answer.json()["message"], answer.text
    assert seconds < REFUSED_WITHIN_SECONDS, seconds


def timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def rename_in_registry(database_url: str, secretary: Person, association_id: str, name: str) -> None:
    """The registry's own use case, run here on its database while the broker is away (as a request in flight
    commits): the association and its event in the outbox, in one transaction."""
    engine = create_database_engine(database_url)
    repositories = {"accounts": AccountRepository, "associations": AssociationRepository}
    units_of_work = partial(UnitOfWork, sessionmaker(engine, expire_on_commit=False), Base.metadata,
                            repositories=repositories)  # fmt: skip
    try:
        handlers.update_association(
            unit_of_work=units_of_work,
            locate_city=lambda *_args, **_kwargs: None,
            now=datetime.now(UTC),
            token=secretary.headers["Authorization"].removeprefix("Bearer "),
            association_id=uuid.UUID(association_id),
            patch=AssociationPatch(name=name),
        )
    finally:
        engine.dispose()


@contextmanager
def registering_meanwhile(secretary: Person) -> Iterator[list[str]]:
    """Clients registering associations one after another until the block ends; yields the names accepted."""
    accepted: list[str] = []
    stopping = threading.Event()

    def client() -> None:
        while not stopping.is_set():
            name = f"In Flight Fellowship {uuid.uuid4().hex[:8]}"
            try:
                if register(secretary, name).status_code == 201:
                    accepted.append(name)
            except requests.RequestException:
                pass  # no answer: not accepted

    clients = [threading.Thread(target=client) for _ in range(REGISTERING_CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        yield accepted
    finally:
        stopping.set()
        for thread in clients:
            thread.join()


def gateway_listens(broker, system) -> bool:
    """The gateway's exclusive queue of association events (gateway/association_changes.py) is there."""
    vhost = system.env["DIASPORAHUB_AMQP_URI"].rpartition("/")[2]  # as the URI has it: quoted
    queues = requests.get(f"{broker.management_url}/api/queues/{vhost}", timeout=10).json()
    return any(queue["name"].startswith("gateway.public-reads-") for queue in queues)


def started_processes(system) -> dict[str, int]:
    return {name: process.pid for name, process in system.processes.items() if process.poll() is None}


def test_the_system_recovers_by_itself_after_rabbitmq_restarts(system, broker, people, registry_database_url):
    cell, secretary = people
    wait_until_ready(system, "after starting")
    before = started_processes(system)
    renamed = register(secretary, f"Restart Fellowship {uuid.uuid4().hex[:8]}").json()

    with registering_meanwhile(secretary) as accepted:
        time.sleep(1)
        broker.stop_app()
        try:
            answer, seconds = timed(lambda: register(secretary, f"Refused Fellowship {uuid.uuid4().hex[:8]}"))
            assert_refused_at_once(answer, seconds)
            name_written_meanwhile = f"Renamed While Away {uuid.uuid4().hex[:8]}"
            rename_in_registry(registry_database_url, secretary, renamed["id"], name_written_meanwhile)
        finally:
            broker.start_app()
        wait_until_ready(system, "after RabbitMQ's start_app")

    registered_after = f"After Restart Fellowship {uuid.uuid4().hex[:8]}"
    assert register(secretary, registered_after).status_code == 201
    eventually(lambda: found_by_search(cell, registered_after), "an event published after the restart consumed")
    eventually(lambda: found_by_search(cell, name_written_meanwhile), "the event written meanwhile published")
    for name in accepted:
        eventually(lambda name=name: found_by_search(cell, name), f"{name}, accepted around the restart, found")
    eventually(lambda: gateway_listens(broker, system), "the gateway listening to association events again")
    assert started_processes(system) == before


def test_the_system_recovers_by_itself_after_postgresql_restarts(system, database_server, people):
    cell, secretary = people
    wait_until_ready(system, "before the restart")
    before = started_processes(system)
    registry_readiness = f"http://{system.env['REGISTRY_METRICS_LISTEN']}/readyz"

    database_server.stop_server()
    try:
        answer, seconds = timed(lambda: register(secretary, f"Refused Fellowship {uuid.uuid4().hex[:8]}"))
        assert_refused_at_once(answer, seconds)
        said = requests.get(registry_readiness, timeout=10)
        assert (said.status_code, said.json()["checks"]["database"]) == (503, False), said.text
    finally:
        database_server.start_server()

    wait_until_ready(system, "after PostgreSQL's restart")
    eventually(lambda: requests.get(registry_readiness, timeout=10).ok, "the registry's database ready again")
    registered_after = f"After Restart Fellowship {uuid.uuid4().hex[:8]}"
    assert register(secretary, registered_after).status_code == 201
    eventually(lambda: found_by_search(cell, registered_after), "the registration's event consumed")
    assert started_processes(system) == before
