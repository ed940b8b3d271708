"""An RPC write delivered again (the connection dropped before its acknowledgement) is carried out once: the same
AMQP request, published twice with its correlation id, leaves one row and gets the first answer both times. On
SQLite and PostgreSQL, through the real registry and broker."""

import uuid

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.orm import sessionmaker

from servicekit.answered_requests import AlreadyCarriedOut, RequestRecord, add_answered_requests_table
from servicekit.database import Database, UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from servicekit.rpc_writes import rpc_write
from servicekit.settings import DatabaseSettings
from services.registry.service import RegistryService

RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)


@pytest.fixture
def registry(database_url, nameko_config, container_factory, monkeypatch):
    upgrade("services.registry", database_url)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    container = container_factory(RegistryService, nameko_config)
    container.start()
    return container


class Requester:
    """Publishes raw RPC requests as any nameko caller does, and reads their replies."""

    def __init__(self, amqp_uri: str, service: str = "registry") -> None:
        self.service = service
        self.connection = Connection(amqp_uri)
        self.reply_to = f"answered-requests-test-{uuid.uuid4()}"
        queue = Queue(self.reply_to, exchange=RPC_EXCHANGE, routing_key=self.reply_to, exclusive=True)
        self.replies: list[tuple[str, dict]] = []
        Consumer(self.connection, queues=[queue], callbacks=[self._on_reply], accept=["json"], no_ack=True).consume()
        self.producer = Producer(self.connection, exchange=RPC_EXCHANGE, serializer="json")

    def _on_reply(self, body: dict, message) -> None:
        self.replies.append((message.properties["correlation_id"], body))

    def publish(self, method: str, correlation_id: str, *args) -> None:
        self.producer.publish(
            {"args": list(args), "kwargs": {}},
            routing_key=f"{self.service}.{method}",
            reply_to=self.reply_to,
            correlation_id=correlation_id,
        )

    def wait_for_replies(self, count: int) -> list[tuple[str, dict]]:
        while len(self.replies) < count:
            self.connection.drain_events(timeout=20)
        return self.replies

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def requester(amqp_uri):
    opened = Requester(amqp_uri)
    yield opened
    opened.close()


def rows(url: str, sql: str, **parameters) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), parameters).all()
    finally:
        engine.dispose()


def sign_up(email: str) -> dict:
    return {"email": email, "display_name": "Lalremruati", "password": "a long enough passphrase 42"}


def test_a_write_delivered_again_is_carried_out_once_and_answered_as_the_first_time(registry, requester, database_url):
    correlation_id = str(uuid.uuid4())
    requester.publish("sign_up", correlation_id, sign_up("again@example.org"))
    first = requester.wait_for_replies(1)[0]
    requester.publish("sign_up", correlation_id, sign_up("again@example.org"))
    second = requester.wait_for_replies(2)[1]

    assert first[1]["error"] is None
    assert second == first
    assert len(rows(database_url, "SELECT id FROM accounts WHERE email = :email", email="again@example.org")) == 1
    assert rows(database_url, "SELECT method FROM answered_requests WHERE request_id = :id", id=correlation_id) == [
        ("registry.sign_up",)
    ]


def test_a_write_delivered_twice_at_once_leaves_one_row(registry, requester, database_url):
    correlation_id = str(uuid.uuid4())
    requester.publish("sign_up", correlation_id, sign_up("twice@example.org"))
    requester.publish("sign_up", correlation_id, sign_up("twice@example.org"))
    replies = requester.wait_for_replies(2)

    accounts = rows(database_url, "SELECT id FROM accounts WHERE email = :email", email="twice@example.org")
    assert len(accounts) == 1
    assert any(body["error"] is None for _, body in replies)


def test_requests_with_other_ids_are_each_carried_out(registry, requester, database_url):
    requester.publish("sign_up", str(uuid.uuid4()), sign_up("one@example.org"))
    requester.publish("sign_up", str(uuid.uuid4()), sign_up("two@example.org"))
    replies = requester.wait_for_replies(2)

    assert [body["error"] for _, body in replies] == [None, None]
    assert len(rows(database_url, "SELECT request_id FROM answered_requests")) == 2


def test_an_error_is_answered_again_without_running_twice(registry, requester, database_url):
    """A sign-up refused for its e-mail writes nothing, so a repeat runs again and is refused the same way."""
    requester.publish("sign_up", str(uuid.uuid4()), sign_up("taken@example.org"))
    requester.wait_for_replies(1)
    correlation_id = str(uuid.uuid4())
    for _ in range(2):
        requester.publish("sign_up", correlation_id, sign_up("taken@example.org"))
    replies = requester.wait_for_replies(3)

    assert [body["error"]["exc_type"] for _, body in replies[1:]] == ["Conflict", "Conflict"]
    assert len(rows(database_url, "SELECT id FROM accounts WHERE email = :email", email="taken@example.org")) == 1
    assert (
        rows(database_url, "SELECT request_id FROM answered_requests WHERE request_id = :id", id=correlation_id) == []
    )


class KeySettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEYRING_")


KEYRING = MetaData()
KEYS = Table("keys", KEYRING, Column("id", Integer, primary_key=True), Column("secret", String(64)))
add_answered_requests_table(KEYRING)


class KeyringService:
    """A service whose write answers a secret, as the registry's recovery codes are."""

    name = "keyring"
    unit_of_work = Database(KeySettings, KEYRING, repositories={})

    @rpc_write(answer_holds_secrets=True)
    def new_key(self) -> str:
        secret = uuid.uuid4().hex
        with self.unit_of_work() as work:
            work.session.execute(insert(KEYS).values(secret=secret))
        return secret


def test_an_answer_holding_secrets_is_not_kept_and_a_repeat_is_told_to_start_again(
    nameko_config, container_factory, tmp_path, monkeypatch, amqp_uri
):
    url = f"sqlite:///{tmp_path / 'keyring.sqlite3'}"
    engine = create_engine(url)
    KEYRING.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("KEYRING_DATABASE_URL", url)
    container_factory(KeyringService, nameko_config).start()
    requester = Requester(amqp_uri, service="keyring")
    try:
        correlation_id = str(uuid.uuid4())
        requester.publish("new_key", correlation_id)
        first = requester.wait_for_replies(1)[0][1]
        requester.publish("new_key", correlation_id)
        again = requester.wait_for_replies(2)[1][1]
    finally:
        requester.close()

    assert rows(url, "SELECT secret FROM keys") == [(first["result"],)]
    assert again["error"]["exc_type"] == "Conflict" and "start again" in again["error"]["value"]
    assert first["result"] not in str(rows(url, "SELECT answer FROM answered_requests"))


@pytest.fixture
def keyring(database_url):
    """The keyring's tables on each backend, and its sessions."""
    engine = create_database_engine(database_url)
    KEYRING.create_all(engine)
    yield engine, sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def delivery_of_request_1(sessions) -> RequestRecord:
    """The record a delivery of the same request (the same correlation id) gets."""
    return RequestRecord(sessions, KEYRING, request_id="request-1", method="keyring.new_key", wait_seconds=0.2)


def test_a_stored_answer_comes_back_and_leaves_its_connection_transactional(keyring):
    """The answer is stored on the driver's connection (in autocommit on PostgreSQL): the pool's next unit of work,
    on that same connection, still rolls back what it wrote before failing."""
    engine, sessions = keyring
    first = delivery_of_request_1(sessions)
    with UnitOfWork(sessions, KEYRING, request=first) as work:
        work.session.execute(insert(KEYS).values(secret="kept"))
    first.keep_answer({"secret": "kept", "ids": [1, 2]}, None)
    with pytest.raises(RuntimeError), UnitOfWork(sessions, KEYRING) as work:
        work.session.execute(insert(KEYS).values(secret="rolled back"))
        raise RuntimeError("failed after writing")

    assert delivery_of_request_1(sessions).earlier_answer() == ({"secret": "kept", "ids": [1, 2]}, None)
    assert engine.pool.checkedout() == 0
    with engine.connect() as connection:
        assert connection.execute(KEYS.select()).all() == [(1, "kept")]


def test_a_write_past_the_orm_records_the_request_and_a_read_does_not(keyring):
    """Core on the session's connection bypasses the session's events; the database tells whether the transaction
    wrote (SQLite's count of changed rows, PostgreSQL's transaction id), so a repeat is still refused."""
    _engine, sessions = keyring
    first = delivery_of_request_1(sessions)
    with UnitOfWork(sessions, KEYRING, request=first) as work:
        work.session.connection().execute(KEYS.select()).all()
    recorded_after_a_read = first.recorded
    with UnitOfWork(sessions, KEYRING, request=first) as work:
        work.session.connection().execute(insert(KEYS).values(secret="past the ORM"))

    assert (recorded_after_a_read, first.recorded) == (False, True)
    with pytest.raises(AlreadyCarriedOut), UnitOfWork(sessions, KEYRING, request=delivery_of_request_1(sessions)):
        pass
