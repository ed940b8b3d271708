"""Shared fixtures: a RabbitMQ vhost and PostgreSQL databases of the test session's own."""

from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

import os  # noqa: E402
import uuid  # noqa: E402
from functools import partial, partialmethod  # noqa: E402
from urllib.parse import quote  # noqa: E402

import eventlet  # noqa: E402
import psycopg2  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from eventlet import tpool  # noqa: E402
from kombu.mixins import ConsumerMixin  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import servicekit.rpc  # noqa: E402,F401  (our error types cross RPC as themselves)

RABBIT_MANAGEMENT = os.environ.get("TEST_RABBIT_MANAGEMENT", "http://guest:guest@127.0.0.1:15672")
RABBIT_AMQP = os.environ.get("TEST_RABBIT_AMQP", "amqp://guest:guest@127.0.0.1:5672")
DATABASES_DROPPED_AT_ONCE = 10
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session", autouse=True)
def consumers_that_stop_at_once():
    """A nameko consumer sees that it was told to stop only between two reads from the broker, and kombu waits up
    to 1 s (its `safety_interval`) for each read: every test that ran a service waited that second at teardown.
    In the tests the wait is 50 ms. Services started as processes (tests/e2e) keep kombu's default."""
    original = ConsumerMixin.consume
    ConsumerMixin.consume = partialmethod(original, safety_interval=0.05)
    yield
    ConsumerMixin.consume = original


class RabbitVhosts:
    """Creates RabbitMQ vhosts of the test session's own and deletes them all at the end, with the broker users
    made for them; on the shared broker unless given another's URLs (the chaos suite's node of its own)."""

    def __init__(self, management_url: str = RABBIT_MANAGEMENT, amqp_url: str = RABBIT_AMQP):
        self.management_url = management_url
        self.amqp_url = amqp_url
        self.created: list[str] = []
        self.users: list[str] = []

    def _management(self, method: str, path: str, **kwargs) -> None:
        response = requests.request(method, f"{self.management_url}/api/{path}", timeout=10, **kwargs)
        response.raise_for_status()

    def create(self) -> str:
        encoded = quote(f"diasporahub-test-{uuid.uuid4().hex[:10]}", safe="")
        self._management("PUT", f"vhosts/{encoded}")
        self._management("PUT", f"permissions/{encoded}/guest", json={"configure": ".*", "write": ".*", "read": ".*"})
        self.created.append(encoded)
        return f"{self.amqp_url}/{encoded}"

    def service_users_env(self, amqp_uri: str) -> dict[str, str]:
        """The environment that gives every service of the catalogue its own broker user in `amqp_uri`'s vhost, as
        production does: `<SERVICE>_AMQP_URI` and a user prefix of this session's own (broker users are not per
        vhost). `diasporahub prepare` (or servicekit's `ensure_service_users`) makes the users; they are deleted at
        the end of the session."""
        from servicekit.settings import amqp_uri_variable
        from services.catalogue import CATALOGUE

        prefix = f"test-{uuid.uuid4().hex[:8]}-"
        server, _, vhost = amqp_uri.rpartition("/")
        host = server.rpartition("@")[2]
        env = {"DIASPORAHUB_BROKER_USER_PREFIX": prefix, "DIASPORAHUB_RABBITMQ_MANAGEMENT_URL": self.management_url}
        for entry in CATALOGUE:
            user = f"{prefix}{entry.name}"
            self.users.append(user)
            env[amqp_uri_variable(entry.name)] = f"amqp://{user}:{uuid.uuid4().hex}@{host}/{vhost}"
        return env

    def delete_all(self) -> None:
        for encoded in self.created:
            self._management("DELETE", f"vhosts/{encoded}")
        for user in self.users:
            requests.delete(f"{self.management_url}/api/users/{quote(user, safe='')}", timeout=10)


@pytest.fixture(scope="session")
def rabbit_vhosts():
    vhosts = RabbitVhosts()
    try:
        yield vhosts
    finally:
        vhosts.delete_all()


@pytest.fixture(scope="session")
def amqp_uri(rabbit_vhosts):
    """The vhost of the integration tests; a running system gets one of its own."""
    return rabbit_vhosts.create()


class PostgresDatabases:
    """Creates databases of the test session's own and drops them all at the end."""

    def __init__(self, server_url: str):
        self.server_url = make_url(server_url)
        self.created: list[str] = []

    def _execute(self, statement: str) -> None:
        connection = psycopg2.connect(
            host=self.server_url.host,
            port=self.server_url.port,
            user=self.server_url.username,
            dbname=self.server_url.database,
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def create(self) -> str:
        name = f"diasporahub_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Dropped side by side: each DROP DATABASE waits for a checkpoint (about 0.5 s), and drops that wait
        together share one. In real threads, since psycopg2 blocks the green ones."""
        statements = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.created]
        drops = eventlet.GreenPool(DATABASES_DROPPED_AT_ONCE)
        for _ in drops.imap(partial(tpool.execute, self._execute), statements):
            pass


@pytest.fixture(scope="session")
def postgres_databases():
    databases = PostgresDatabases(POSTGRES_URL)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """One empty database per test, on each backend: the same suite runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_databases").create()
