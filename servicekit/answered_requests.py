"""RPC writes carried out once: a request delivered again gets the answer stored the first time.

An RPC request is acknowledged after its reply, so a connection dropped between a write's commit and the
acknowledgement delivers the request again. For an entrypoint declared with `servicekit.rpc_writes.rpc_write`,
the request's correlation id (the same on every delivery) is written in the transaction of the worker's first
unit of work that writes, and the answer (result or error) is stored before the reply is sent. A later delivery
finds the record when its first unit of work opens: it changes nothing and is answered what the first was. If
the first delivery's process died between its commit and storing the answer, the later one waits for that
answer up to the RPC timeout and is then told Conflict: the write is done, but its answer is lost.

Records are purged after `DIASPORAHUB_ANSWERED_REQUESTS_KEPT_HOURS` (24): an unanswered request expires from
its queue within the RPC timeout, so a delivery cannot come later than that.
"""

import json
import logging
import weakref
from datetime import timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import eventlet
from nameko.exceptions import deserialize, serialize
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Insert,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    delete,
    event,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.orm import Session

from contracts.errors import Conflict
from servicekit.sqltypes import UTCDateTime, utcnow

log = logging.getLogger(__name__)

TABLE_NAME = "answered_requests"
# Where an idempotent RPC worker's context keeps its request id (servicekit.rpc_writes sets it on every delivery).
REQUEST_ID_KEY = "rpc_request_id"
# Set on the worker context by servicekit.database's provider: the worker's RequestRecord.
REQUEST_RECORD_ATTRIBUTE = "answered_request_record"
_WROTE = "answered_requests.wrote"
_POLL_SECONDS = 0.1
_SQLITE_CHANGES = "answered_requests.sqlite_changes_at_begin"
# PostgreSQL 9.6 and later; NULL until the transaction writes.
_TRANSACTION_ID_IF_ASSIGNED = text("SELECT txid_current_if_assigned()")
# Session classes (one per sessionmaker) whose sessions note their writes: listening on each session cost about as
# much CPU as the request's look-up (some 40 µs).
_WATCHED_SESSION_CLASSES: weakref.WeakSet = weakref.WeakSet()


class AnsweredRequestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    answered_requests_kept_hours: float = 24.0
    answered_requests_purge_every_seconds: float = 3600.0


def add_answered_requests_table(metadata: MetaData) -> Table:
    return Table(
        TABLE_NAME,
        metadata,
        Column("request_id", String(64), primary_key=True),
        Column("method", String(200), nullable=False),
        Column("recorded_at", UTCDateTime, nullable=False, index=True),
        # {"result": ..., "error": ...} as nameko replies; None until the worker has its answer.
        Column("answer", JSON, nullable=True),
    )


def request_id_of(worker_ctx) -> str | None:
    """The correlation id of the request an idempotent RPC worker was started for, else None."""
    if not getattr(worker_ctx.entrypoint, "idempotent", False):
        return None
    return worker_ctx.context_data.get(REQUEST_ID_KEY)


class AlreadyCarriedOut(Exception):
    """This request's write has committed before (an earlier delivery): nothing is done again."""


class RequestRecord:
    """One idempotent RPC worker's request, shared by the worker's units of work and its entrypoint."""

    def __init__(self, session_factory, metadata: MetaData, *, request_id: str, method: str, wait_seconds: float):
        self._session_factory = session_factory
        self._table = metadata.tables[TABLE_NAME]
        self.request_id = request_id
        self.method = method
        self.wait_seconds = wait_seconds
        self.recorded = False
        self._engine: Engine | None = None  # the recording session's, once recorded

    def begin(self, session: Session) -> None:
        """Raises AlreadyCarriedOut if an earlier delivery wrote; otherwise notes whether `session` writes."""
        if self.recorded:
            return
        statements = _statements(self._table, session.get_bind().dialect.name)
        connection = session.connection()
        if connection.scalar(statements.recorded, {"the_request_id": self.request_id}):
            session.close()
            raise AlreadyCarriedOut(f"request {self.request_id} to {self.method} was carried out before")
        _watch_writes(type(session))
        if connection.dialect.name == "sqlite":
            session.info[_SQLITE_CHANGES] = connection.connection.driver_connection.total_changes

    def record_if_written(self, session: Session, *, raised_events: bool) -> None:
        """In the unit of work's transaction: the request is recorded with its first write."""
        if self.recorded:
            return
        wrote = raised_events or session.info.get(_WROTE) or session.new or session.dirty or session.deleted
        if not wrote and not _wrote_past_the_orm(session):
            return
        engine = session.get_bind()
        record = _statements(self._table, engine.dialect.name).record
        row = {"request_id": self.request_id, "method": self.method, "recorded_at": utcnow()}
        # On PostgreSQL a delivery running at the same time waits on the row's lock, then sees the conflict.
        if session.connection().execute(record, row).rowcount != 1:
            raise AlreadyCarriedOut(f"request {self.request_id} to {self.method} was carried out at the same time")
        self.recorded = True
        self._engine = engine

    def keep_answer(self, result: Any, exc_info) -> None:
        """Stored before the reply is sent; if it cannot be, a later delivery is told Conflict, never run again.

        On the driver's connection: through an SQLAlchemy Connection it cost each write about 40 µs more CPU, and a
        failure here is logged, not raised, so SQLAlchemy's wrapping of errors is not needed (the pool still checks
        the connection out, pings it and rolls it back on return as for any other)."""
        answer = {"result": result, "error": serialize(exc_info[1]) if exc_info is not None else None}
        keep = _keep_answer_statement(self._table, self._engine.dialect)
        try:
            values = {"the_request_id": self.request_id, "the_answer": json.dumps(answer)}
            parameters = tuple(values[name] for name in keep.positiontup) if keep.positional else values
            connection = self._engine.raw_connection()
            try:
                _update_alone(connection, keep.string, parameters, on_postgresql=keep.dialect.name == "postgresql")
            finally:
                connection.close()
        except Exception:
            log.exception("could not store the answer to request %s to %s", self.request_id, self.method)

    def earlier_answer(self) -> tuple[Any, Any]:
        """(result, exc_info) as the first delivery answered, waiting for it while that delivery may still run."""
        deadline = eventlet.hubs.get_hub().clock() + self.wait_seconds
        while True:
            with self._session_factory() as session:
                answer = session.scalar(select(self._table.c.answer).where(self._table.c.request_id == self.request_id))
            if answer is not None:
                break
            if eventlet.hubs.get_hub().clock() >= deadline:
                error = Conflict("This was already done, but its answer was lost. Reload the page to see it.")
                return None, (Conflict, error, None)
            eventlet.sleep(_POLL_SECONDS)
        if answer["error"] is None:
            return answer["result"], None
        error = deserialize(answer["error"])
        return None, (type(error), error, None)


class _Statements(NamedTuple):
    recorded: Select
    record: Insert


@lru_cache(maxsize=16)
def _statements(table: Table, dialect: str) -> _Statements:
    """Built once per table: every rpc_write runs them, and building and compiling a statement each time cost
    more than the database's work. Core, on the session's connection, not through the ORM, for the same reason."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return _Statements(
        recorded=select(table.c.request_id).where(table.c.request_id == bindparam("the_request_id")),
        record=insert(table).on_conflict_do_nothing(),
    )


@lru_cache(maxsize=16)
def _keep_answer_statement(table: Table, dialect: Dialect) -> Compiled:
    """Compiled once for the driver: the answer is passed as JSON text, as SQLAlchemy's JSON type writes it."""
    # Not named after a column: an UPDATE keeps those names for the values it sets.
    keep = update(table).where(table.c.request_id == bindparam("the_request_id"))
    return keep.values(answer=bindparam("the_answer")).compile(dialect=dialect)


def _update_alone(connection, statement: str, parameters, *, on_postgresql: bool) -> None:
    """One UPDATE in a transaction of its own. On PostgreSQL in autocommit, where a single statement is atomic
    anyway: that spares BEGIN's and COMMIT's round trips (about 65 µs of CPU); SQLite's are in the process."""
    cursor = connection.cursor()
    if not on_postgresql:
        cursor.execute(statement, parameters)
        cursor.close()
        connection.commit()
        return
    driver = connection.dbapi_connection
    driver.autocommit = True
    try:
        cursor.execute(statement, parameters)
        cursor.close()
    finally:
        try:
            driver.autocommit = False
        except Exception:
            connection.invalidate()  # never back in the pool in autocommit
            raise


def _watch_writes(session_class: type[Session]) -> None:
    """Every session of `session_class` (a sessionmaker's) notes in its `info` that it wrote."""
    if session_class in _WATCHED_SESSION_CLASSES:
        return
    event.listen(session_class, "after_flush", _note_write)
    event.listen(session_class, "do_orm_execute", _note_written_statement)
    _WATCHED_SESSION_CLASSES.add(session_class)


def _wrote_past_the_orm(session: Session) -> bool:
    """Whether the transaction changed rows through statements the session's events do not see (Core on
    `session.connection()`), asked of the database: SQLite counts each connection's changed rows, PostgreSQL gives a
    transaction its id at its first write. Asked only when nothing else showed a write."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return connection.connection.driver_connection.total_changes != session.info.get(_SQLITE_CHANGES)
    return connection.scalar(_TRANSACTION_ID_IF_ASSIGNED) is not None


def _note_write(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


def _note_written_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def purge_answered(engine: Engine, metadata: MetaData, *, kept_for: timedelta) -> int:
    table = metadata.tables[TABLE_NAME]
    with engine.begin() as connection:
        return connection.execute(delete(table).where(table.c.recorded_at < utcnow() - kept_for)).rowcount


def purge_regularly(engine: Engine, metadata: MetaData) -> None:
    """A managed thread of the service's Database provider."""
    settings = AnsweredRequestSettings()
    while True:
        try:
            purged = purge_answered(engine, metadata, kept_for=timedelta(hours=settings.answered_requests_kept_hours))
            if purged:
                log.info("purged %d answered requests", purged)
        except Exception as exc:
            log.warning("could not purge answered requests (tried again later): %s", exc)
        eventlet.sleep(settings.answered_requests_purge_every_seconds)
