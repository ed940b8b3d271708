"""The ids of events a consumer has handled, so that a repeat changes nothing."""

from functools import lru_cache

from sqlalchemy import Column, Insert, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.events import EventEnvelope
from servicekit.sqltypes import UTCDateTime, utcnow

TABLE_NAME = "handled_events"


def add_inbox_table(metadata: MetaData) -> Table:
    return Table(
        TABLE_NAME,
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("handled_at", UTCDateTime, nullable=False),
    )


def record_first_delivery(session: Session, metadata: MetaData, consumer: str, handled: EventEnvelope) -> bool:
    """Record the event as handled by `consumer`; False if it already was.

    On PostgreSQL a concurrent repeat waits on the row lock until the first
    delivery commits, then sees the conflict: the event is handled once.
    """
    record = _record_statement(metadata.tables[TABLE_NAME], session.get_bind().dialect.name)
    row = {"consumer": consumer, "event_id": str(handled.event_id), "handled_at": utcnow()}
    return session.connection().execute(record, row).rowcount == 1


@lru_cache(maxsize=16)
def _record_statement(table: Table, dialect: str) -> Insert:
    """Built once per table: every handled event runs it, and building it each time cost more than the insert."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
