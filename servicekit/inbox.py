"""The ids of events a consumer has handled, so that a repeat changes nothing."""

from sqlalchemy import Column, MetaData, String, Table
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
    table = metadata.tables[TABLE_NAME]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(consumer=consumer, event_id=str(handled.event_id), handled_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.execute(statement).rowcount == 1
