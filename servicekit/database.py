"""Engines, a unit of work, and the nameko provider that hands one to each worker."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from contracts.errors import Unavailable
from contracts.events import EventEnvelope
from servicekit import answered_requests, inbox, outbox, wal_checkpoints
from servicekit.settings import BusSettings, DatabaseSettings

# libpq gives up a connection not made by then, in a process without eventlet (a relay, the CLI): green psycopg2
# connects asynchronously, and libpq leaves the timeout to the caller (servicekit.metrics bounds readiness's).
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5


def create_database_engine(url: str) -> Engine:
    """Statements that fail are logged without their parameters: those may hold hashes and personal data."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        psycopg2 = parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg2"
        connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS} if psycopg2 else {}
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True,
                             connect_args=connect_args)  # fmt: skip
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _tune_sqlite(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={wal_checkpoints.AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


# PostgreSQL's SQLSTATE for "could not extend file … No space left on device" (psycopg's errors.DiskFull).
POSTGRES_DISK_FULL = "53100"
DISK_FULL_MESSAGE = "Nothing could be saved just now: the service's storage is full. Nothing was changed; try later."


def is_disk_full(exc: OperationalError) -> bool:
    """SQLite's "database or disk is full" or PostgreSQL's disk_full, whichever driver raised it."""
    cause = exc.orig
    if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    # psycopg2 names the SQLSTATE `pgcode`, psycopg 3 `sqlstate`.
    return POSTGRES_DISK_FULL in (getattr(cause, "pgcode", None), getattr(cause, "sqlstate", None))


UNREACHABLE_MESSAGE = "The service cannot reach its database just now (it may be restarting). Try again in a moment."
# SQLSTATEs of a server that is not there for us: class 08 (connection exceptions), and 57P01-57P03 (shutting down,
# crashed, starting up).
POSTGRES_SERVER_AWAY = ("57P01", "57P02", "57P03")


def is_unreachable(exc: DBAPIError) -> bool:
    """The database cannot be reached: the connection was refused, cut under a statement (a restart), or the
    server is shutting down or not yet accepting."""
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if code:
        return code.startswith("08") or code in POSTGRES_SERVER_AWAY
    # libpq failed before any server answered (refused, reset, timed out): psycopg gives no SQLSTATE then.
    return isinstance(exc, OperationalError) and type(cause).__module__.startswith("psycopg")


def unavailable_instead(exc: BaseException | None) -> Unavailable | None:
    """The 503 a person gets, with a sentence, for a database error that is neither a bug nor their doing: the disk
    full, or the database unreachable. The log keeps the driver's error."""
    if isinstance(exc, OperationalError) and is_disk_full(exc):
        return Unavailable(DISK_FULL_MESSAGE)
    if isinstance(exc, DBAPIError) and is_unreachable(exc):
        return Unavailable(UNREACHABLE_MESSAGE)
    return None


@contextmanager
def unavailable_on_outage() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        unavailable = unavailable_instead(exc)
        if unavailable is None:
            raise
        raise unavailable from exc


class AlreadyHandled(Exception):
    """The event this worker was started for has been handled before; nothing is done again."""


class UnitOfWork:
    """One transaction: the state changes and the events they raise commit together.

    Use it as a context manager: each repository named at construction is an
    attribute of it (`work.associations`), and it commits when the block ends normally and
    rolls back when it raises. Commit before any network I/O: SQLite under
    eventlet freezes the process if a write transaction waits on the network.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        metadata: MetaData,
        *,
        repositories: dict[str, Callable[[Session], object]] | None = None,
        handling: tuple[str, EventEnvelope] | None = None,
        request: answered_requests.RequestRecord | None = None,
        event_headers: dict[str, object] | None = None,
        on_events_committed: Callable[[], None] = lambda: None,
    ):
        self._session_factory = session_factory
        self._metadata = metadata
        self._repositories = repositories or {}
        self._handling = handling
        self._request = request
        self._event_headers = event_headers or {}
        self._on_events_committed = on_events_committed
        self._raised_events: list[EventEnvelope] = []
        self.session: Session

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        try:
            with unavailable_on_outage():
                self._begin()
        except BaseException:
            self.session.close()
            raise
        for name, repository in self._repositories.items():
            setattr(self, name, repository(self.session))
        return self

    def _begin(self) -> None:
        if self._handling is not None:
            consumer, handled_event = self._handling
            if not inbox.record_first_delivery(self.session, self._metadata, consumer, handled_event):
                raise AlreadyHandled(f"{consumer} already handled event {handled_event.event_id}")
        if self._request is not None:
            self._request.begin(self.session)

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self._raised_events = []
                with unavailable_on_outage():
                    self.session.rollback()
        finally:
            self.session.close()
        # SQLite finds the disk full at the statement that grows the file, PostgreSQL often only at commit; a
        # statement in the block may find the database gone.
        unavailable = unavailable_instead(exc)
        if unavailable is not None:
            raise unavailable from exc

    def add_event(self, raised: EventEnvelope) -> None:
        """The event is written to the outbox with the transaction's other changes, at commit."""
        self._raised_events.append(raised)

    def commit(self) -> None:
        raised, self._raised_events = self._raised_events, []
        with unavailable_on_outage():
            if raised:
                outbox.add_all(self.session, self._metadata, raised, headers=self._event_headers)
            if self._request is not None:
                self._request.record_if_written(self.session, raised_events=bool(raised))
            self.session.commit()
        if raised:
            self._on_events_committed()


class ReadOnlyUnitOfWork:
    """A unit of work for an entrypoint that only reads (`reads_only`): the repositories on one session, and none of
    a writer's machinery (events, inbox, request record, commit). Closing the session ends its transaction, as a
    rollback: a read has nothing to keep. Database errors of the block become Unavailable, as in UnitOfWork."""

    def __init__(self, session_factory: Callable[[], Session], *, repositories: dict[str, Callable[[Session], object]]):
        self._session_factory = session_factory
        self._repositories = repositories
        self.session: Session

    def __enter__(self) -> "ReadOnlyUnitOfWork":
        self.session = self._session_factory()
        for name, repository in self._repositories.items():
            setattr(self, name, repository(self.session))
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.session.close()
        unavailable = unavailable_instead(exc)
        if unavailable is not None:
            raise unavailable from exc


def reads_only(method: Callable) -> Callable:
    """Marks an entrypoint that writes nothing: the Database provider gives its workers ReadOnlyUnitOfWork, which
    costs a read less CPU than UnitOfWork. Put it under the entrypoint's decorator (`@rpc(...)`)."""
    method.reads_only = True
    return method


class Database(DependencyProvider):
    """Gives each worker `unit_of_work()`; optionally relays the service's outbox to the bus.

    In a worker started for an event (servicekit.consumer), the unit of work
    first records the event id and raises AlreadyHandled for a repeat, so a
    redelivered event changes nothing. In a worker started for an `rpc_write` request, units of work record the
    request with its first write and a repeat gets the first answer (servicekit.answered_requests); the metadata
    then needs that table, whose old rows this provider purges. An entrypoint marked `reads_only` gets read-only
    units of work.
    """

    def __init__(
        self,
        settings_class: type[DatabaseSettings],
        metadata: MetaData,
        *,
        repositories: dict[str, Callable[[Session], object]],
        relay_outbox: bool = False,
    ):
        self.settings_class = settings_class
        self.metadata = metadata
        self.repositories = repositories
        self.relay_outbox = relay_outbox
        self.engine: Engine
        self.relay: outbox.OutboxRelay | None = None
        self.purge = None
        self.checkpointer: wal_checkpoints.WalCheckpointer | None = None
        self.checkpoints = None

    def setup(self) -> None:
        self.read_only_methods = self._read_only_methods()
        self.engine = create_database_engine(self.settings_class().database_url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # Sessions of rpc_write workers note their writes through listeners on their class
        # (servicekit.answered_requests): a sessionmaker of their own spares other workers' statements those.
        self.recording_session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # With a relay process of its own (servicekit/relay.py), the service does not relay as well.
        if self.relay_outbox and not outbox.relays_in_its_own_process(self.container.service_name):
            self.relay = outbox.OutboxRelay(self.engine, self.metadata, self.container.config["AMQP_URI"])
        self.records_requests = answered_requests.TABLE_NAME in self.metadata.tables
        if not self.records_requests and any(getattr(e, "idempotent", False) for e in self.container.entrypoints):
            raise RuntimeError(f"{self.container.service_name}: rpc_write needs the answered_requests table")
        self.rpc_timeout_seconds = BusSettings().rpc_timeout_seconds
        self.read_only_units = partial(ReadOnlyUnitOfWork, self.session_factory, repositories=self.repositories)
        if wal_checkpoints.checkpointed_file(self.engine):
            self.checkpointer = wal_checkpoints.WalCheckpointer(self.engine)

    def start(self) -> None:
        if self.checkpointer is not None:
            self.checkpoints = self.container.spawn_managed_thread(self.checkpointer.run, identifier="wal_checkpoints")
        if self.relay is not None:
            self.container.spawn_managed_thread(self.relay.run, identifier="outbox_relay")
        if self.records_requests:
            purge = partial(answered_requests.purge_regularly, self.engine, self.metadata)
            self.purge = self.container.spawn_managed_thread(purge, identifier="answered_requests_purge")

    def stop(self) -> None:
        if self.purge is not None:
            self.purge.kill()  # a purge cut short rolls back; the next start purges again
        if self.relay is not None:
            self.relay.stop()
        if self.checkpoints is not None:
            self.checkpointer.stop()
            self.checkpoints.wait()  # its connection closed before the engine goes
        self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def _read_only_methods(self) -> frozenset[str]:
        service_cls = self.container.service_cls
        methods = {
            entrypoint.method_name
            for entrypoint in self.container.entrypoints
            if getattr(getattr(service_cls, entrypoint.method_name), "reads_only", False)
        }
        # An rpc_write's units of work record its request, an event consumer's the event: they must not be skipped.
        recording = {
            entrypoint.method_name
            for entrypoint in self.container.entrypoints
            if getattr(entrypoint, "idempotent", False) or hasattr(entrypoint, "handling")
        }
        if recording & methods:
            raise RuntimeError(f"{self.container.service_name}: {sorted(recording & methods)} cannot read only")
        return frozenset(methods)

    def get_dependency(self, worker_ctx) -> Callable[[], UnitOfWork | ReadOnlyUnitOfWork]:
        if worker_ctx.entrypoint.method_name in self.read_only_methods:
            return self.read_only_units
        handling = getattr(worker_ctx.entrypoint, "handling", lambda _ctx: None)(worker_ctx)
        wake_relay = self.relay.wake if self.relay is not None else (lambda: None)
        # The call id travels with the event, so logs link a request to what it caused.
        headers = {"nameko.call_id_stack": worker_ctx.call_id_stack}
        request = self._request_record(worker_ctx)
        return partial(
            UnitOfWork,
            self.session_factory if request is None else self.recording_session_factory,
            self.metadata,
            repositories=self.repositories,
            handling=handling,
            request=request,
            event_headers=headers,
            on_events_committed=wake_relay,
        )

    def _request_record(self, worker_ctx) -> answered_requests.RequestRecord | None:
        request_id = answered_requests.request_id_of(worker_ctx)
        if request_id is None:
            return None
        record = answered_requests.RequestRecord(
            self.recording_session_factory,
            self.metadata,
            request_id=request_id,
            method=f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}",
            wait_seconds=self.rpc_timeout_seconds,
        )
        setattr(worker_ctx, answered_requests.REQUEST_RECORD_ATTRIBUTE, record)
        return record
