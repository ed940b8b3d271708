"""The outbox: events written in the same transaction as the change, relayed with publisher confirms."""

import logging
import os
import threading
import time
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from amqp.exceptions import AMQPError, MessageNacked
from kombu import Connection, Producer
from kombu.exceptions import KombuError
from sqlalchemy import JSON as JSONType
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Insert,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from contracts.events import EventEnvelope
from contracts.topology import events_exchange
from servicekit import event_metrics
from servicekit.bus import declare_topology
from servicekit.settings import BusSettings
from servicekit.sqltypes import UTCDateTime, utcnow

log = logging.getLogger(__name__)

TABLE_NAME = "outbox_messages"
# Sent rows hold what the events said (names, places): the relay drops them a day after they went out; a service
# may prune sooner on its own schedule with `prune_sent` (the registry does, hourly).
SENT_RETENTION = timedelta(days=1)

RELAY_PROCESS = "process"


def relay_variable(service: str) -> str:
    """The variable telling a service that its outbox has a relay process: `REGISTRY_OUTBOX_RELAY=process`."""
    return f"{service.upper()}_OUTBOX_RELAY"


def relays_in_its_own_process(service: str) -> bool:
    return os.environ.get(relay_variable(service)) == RELAY_PROCESS


def add_outbox_table(metadata: MetaData) -> Table:
    return Table(
        TABLE_NAME,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("exchange", String(200), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("headers", JSONType, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("claimed_until", UTCDateTime),
        Column("sent_at", UTCDateTime),
        Index("ix_outbox_messages_sent_at_id", "sent_at", "id"),
    )


def add_all(session: Session, metadata: MetaData, raised: list[EventEnvelope], *, headers: dict[str, object]) -> None:
    """One multi-row insert for all the events of a transaction, in Core on the session's connection with a statement
    built once per table: every write of every service runs it, and the ORM's execute cost more than the insert."""
    now = utcnow()
    session.connection().execute(
        _insert_into(metadata.tables[TABLE_NAME]),
        [
            {
                "event_id": str(event.event_id),
                "exchange": events_exchange(event.source),
                "routing_key": event.routing_key,
                "body": event.model_dump_json(),
                "headers": headers,
                "created_at": now,
            }
            for event in raised
        ],
    )


@lru_cache(maxsize=8)
def _insert_into(table: Table) -> Insert:
    return table.insert()


# Read by the index on (sent_at, id), on the watch's own connection, outside any transaction.
_ANY_UNSENT = f"SELECT 1 FROM {TABLE_NAME} WHERE sent_at IS NULL LIMIT 1"


class CommitWatch:
    """Whether the database may hold new outbox rows since the last look, so that a relay polling often (a relay
    process, which the service's commits cannot wake) does not run an empty claim every time.

    On SQLite, `PRAGMA data_version` on a connection of its own changes when another connection commits, and then
    only a commit that left an unsent row counts: most of a service's commits write no event (messaging's relay
    claimed nothing after each association event its directory kept), and the relay's own claims and marks are
    commits too. Elsewhere (and at the first look, and at least every `LOOK_ANYWAY_SECONDS`, for rows whose lease
    ran out) the answer is always yes."""

    LOOK_ANYWAY_SECONDS = 1.0

    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection = None
        self._version = None
        self._looked_at = float("-inf")

    def maybe_new(self) -> bool:
        if self._engine.dialect.name != "sqlite":
            return True
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        cursor = self._connection.cursor()
        try:
            version = cursor.execute("PRAGMA data_version").fetchone()[0]
            first, changed, self._version = self._version is None, version != self._version, version
            now = time.monotonic()
            if first or now - self._looked_at >= self.LOOK_ANYWAY_SECONDS or (changed and self._unsent(cursor)):
                self._looked_at = now
                return True
            return False
        finally:
            cursor.close()

    @staticmethod
    def _unsent(cursor) -> bool:
        return cursor.execute(_ANY_UNSENT).fetchone() is not None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class ConfirmedPublisher:
    """Publishes on a channel in confirm mode and waits for RabbitMQ's confirms once for a whole batch: kombu's
    `confirm_publish` waits a round trip after each message, which cost the relay and the broker more than the
    publishing itself. `publish(key, …)` as kombu's Producer.publish; `wait_for_confirms()`, then
    `take_confirmed()` gives the keys of the messages RabbitMQ has taken (also after a wait cut short)."""

    def __init__(self, connection: Connection, *, confirm_timeout: float = 30.0):
        self._connection = connection
        self._confirm_timeout = confirm_timeout
        # A channel of its own: delivery tags count the messages published on the channel from 1.
        channel = connection.channel()
        self._producer = Producer(channel)
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._published = 0  # on this channel: the delivery tag of the latest message
        self._awaited: dict[int, object] = {}  # delivery tag → key
        self._confirmed: list = []
        self._refused: list = []

    def publish(self, key, body, **options) -> None:
        tag = self._published + 1
        # Awaited before it is sent: on a connection that waits for each confirm, the confirm comes within.
        self._awaited[tag] = key
        try:
            self._producer.publish(body, retry=False, **options)
        except BaseException:
            del self._awaited[tag]
            raise
        self._published = tag

    def wait_for_confirms(self) -> None:
        """Until RabbitMQ has confirmed or refused every message published; TimeoutError (an OSError) after
        `confirm_timeout` seconds, or MessageNacked if it refused any."""
        deadline = time.monotonic() + self._confirm_timeout
        while self._awaited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"RabbitMQ did not confirm {len(self._awaited)} messages")
            self._connection.drain_events(timeout=remaining)
        if self._refused:
            refused, self._refused = len(self._refused), []
            raise MessageNacked(f"RabbitMQ refused {refused} messages")

    def take_confirmed(self) -> list:
        confirmed, self._confirmed = self._confirmed, []
        return confirmed

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._confirmed.extend(self._settled(tag, multiple))

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._refused.extend(self._settled(tag, multiple))

    def _settled(self, tag: int, multiple: bool) -> list:
        tags = [awaited for awaited in self._awaited if awaited <= tag] if multiple else [tag]
        return [self._awaited.pop(settled) for settled in tags if settled in self._awaited]


class OutboxRelay:
    """Publishes unsent outbox rows in order, marks them sent once RabbitMQ confirms them.

    Several relays (one per service instance) may run: each claims a batch for
    a lease, so a crashed relay's batch is taken over when the lease ends.
    Delivery is at least once; consumers drop repeats.
    """

    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        amqp_uri: str,
        *,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=30),
    ):
        self._engine = engine
        self._table = metadata.tables[TABLE_NAME]
        self._amqp_uri = amqp_uri
        # Over amqps://, the broker's certificate and host name are checked as for every other connection.
        self._tls = BusSettings(amqp_uri=amqp_uri).ssl_options() or False
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._lease = lease
        self._wake = threading.Event()
        self._stopping = False
        self._next_prune = utcnow()
        self._changes = CommitWatch(engine)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                with Connection(self._amqp_uri, ssl=self._tls) as connection:
                    declare_topology(connection)
                    publisher = ConfirmedPublisher(connection, confirm_timeout=self._lease.total_seconds() / 2)
                    backoff = 0.5
                    while not self._stopping:
                        self._wake.clear()
                        if not self._changes.maybe_new() or self.relay_batch(publisher) < self._batch_size:
                            self._prune_sent()
                            self._wake.wait(self._poll_seconds)
            except (OSError, AMQPError, KombuError, MessageNacked) as exc:
                log.warning("outbox relay lost RabbitMQ (%s); retrying in %.1f s", exc, backoff)
                self._wake.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except (OperationalError, InterfaceError) as exc:
                # The database restarting, or its disk full: the events wait in the outbox meanwhile.
                log.warning("outbox relay cannot use its database (%s); retrying in %.1f s", exc, backoff)
                self._wake.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._changes.close()

    def relay_batch(self, publisher: ConfirmedPublisher) -> int:
        """Publish one claimed batch, then wait for its confirms; return how many rows were claimed. Confirmed rows
        are marked sent, the others (refused, or the connection lost) are left for the next batch."""
        rows = self._claim_batch()
        try:
            for row in rows:
                publisher.publish(
                    row.id,
                    row.body,
                    exchange=row.exchange,
                    routing_key=row.routing_key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=row.event_id,
                    headers=row.headers,
                )
            publisher.wait_for_confirms()
        finally:
            confirmed = publisher.take_confirmed()
            exchanges = {row.id: row.exchange for row in rows}
            for row_id in confirmed:
                event_metrics.event_published(exchanges[row_id])
            confirmed_ids = set(confirmed)
            self._settle(confirmed, [row.id for row in rows if row.id not in confirmed_ids])
        return len(rows)

    def _claim_batch(self) -> list:
        now = utcnow()
        statements = _relay_statements(self._table)
        with self._engine.begin() as connection:
            rows = connection.execute(statements.claimable, {"now": now, "batch_size": self._batch_size}).all()
            if rows:
                claim = {"ids": [row.id for row in rows], "until": now + self._lease}
                connection.execute(statements.claim, claim)
        return rows

    def _settle(self, published: list[int], unpublished: list[int]) -> None:
        statements = _relay_statements(self._table)
        with self._engine.begin() as connection:
            if published:
                connection.execute(statements.mark_sent, {"ids": published, "now": utcnow()})
            if unpublished:
                connection.execute(statements.unclaim, {"ids": unpublished})

    def _prune_sent(self) -> None:
        now = utcnow()
        if now < self._next_prune:
            return
        self._next_prune = now + timedelta(minutes=10)
        with self._engine.begin() as connection:
            prune_sent(connection, self._table.metadata, sent_before=now - SENT_RETENTION)


class _RelayStatements(NamedTuple):
    claimable: Select
    claim: Update
    mark_sent: Update
    unclaim: Update


@lru_cache(maxsize=8)
def _relay_statements(table: Table) -> _RelayStatements:
    """Built once per outbox table: a relay runs them for every batch, often of one event, and building them cost
    about as much as the database's work."""
    claimed_rows = table.c.id.in_(bindparam("ids", expanding=True))
    return _RelayStatements(
        claimable=select(table)
        .where(
            table.c.sent_at.is_(None),
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < bindparam("now", type_=UTCDateTime)),
        )
        .order_by(table.c.id)
        .limit(bindparam("batch_size", type_=Integer))
        .with_for_update(skip_locked=True),
        claim=update(table).where(claimed_rows).values(claimed_until=bindparam("until", type_=UTCDateTime)),
        mark_sent=update(table).where(claimed_rows).values(sent_at=bindparam("now", type_=UTCDateTime)),
        unclaim=update(table).where(claimed_rows).values(claimed_until=None),
    )


def prune_sent(connection, metadata: MetaData, *, sent_before: datetime) -> int:
    """Delete the outbox rows sent before `sent_before` (never an unsent one), in the caller's transaction
    (a Connection or a Session); return how many went."""
    table = metadata.tables[TABLE_NAME]
    return connection.execute(delete(table).where(table.c.sent_at < sent_before)).rowcount


def unsent_count(engine: Engine, metadata: MetaData) -> int:
    table = metadata.tables[TABLE_NAME]
    with engine.connect() as connection:
        return connection.execute(select(func.count()).where(table.c.sent_at.is_(None))).scalar_one()
