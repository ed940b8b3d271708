"""The idempotency record of RPC writes, on an SQLite file: a request is recorded with its first write only, a
repeat finds it, the stored answer (or error) comes back, a lost answer is a Conflict, old records are purged."""

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import registry, sessionmaker

from contracts.errors import Conflict, NotFound
from servicekit.answered_requests import (
    TABLE_NAME,
    AlreadyCarriedOut,
    RequestRecord,
    add_answered_requests_table,
    purge_answered,
)
from servicekit.database import UnitOfWork, create_database_engine

METADATA = MetaData()
NOTES = Table("notes", METADATA, Column("id", Integer, primary_key=True), Column("text", String(50)))
add_answered_requests_table(METADATA)


class Note:
    def __init__(self, text: str) -> None:
        self.text = text


registry(metadata=METADATA).map_imperatively(Note, NOTES)


@pytest.fixture
def engine(tmp_path):
    created = create_database_engine(f"sqlite:///{tmp_path / 'answered.sqlite3'}")
    METADATA.create_all(created)
    yield created
    created.dispose()


@pytest.fixture
def sessions(engine):
    return sessionmaker(engine, expire_on_commit=False)


def worker(sessions, request_id: str = "request-1", wait_seconds: float = 0.3):
    """What one RPC worker gets: its record, and units of work that share it."""
    record = RequestRecord(sessions, METADATA, request_id=request_id, method="notes.add", wait_seconds=wait_seconds)
    return record, partial(UnitOfWork, sessions, METADATA, request=record)


def stored(engine, table) -> list:
    with engine.connect() as connection:
        return connection.execute(select(table)).all()


def test_a_unit_of_work_that_only_reads_records_nothing_and_the_first_that_writes_records_the_request(engine, sessions):
    record, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(select(NOTES)).all()
    assert stored(engine, METADATA.tables[TABLE_NAME]) == []

    with unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="once"))
    with unit_of_work() as work:
        work.session.execute(update(NOTES).values(text="still once"))

    assert record.recorded
    assert [(row.request_id, row.method, row.answer) for row in stored(engine, METADATA.tables[TABLE_NAME])] == [
        ("request-1", "notes.add", None)
    ]


def test_a_write_flushed_by_the_orm_before_commit_records_the_request(engine, sessions):
    """Flushed, the note is no longer pending at commit: the session's flush is what tells the record it wrote."""
    record, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.add(Note("flushed"))
        work.session.flush()
        assert not work.session.new

    assert record.recorded
    assert [row.request_id for row in stored(engine, METADATA.tables[TABLE_NAME])] == ["request-1"]


def test_a_unit_of_work_without_a_request_records_nothing_on_sessions_that_note_writes(engine, sessions):
    _record, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(select(NOTES)).all()
    with UnitOfWork(sessions, METADATA) as work:
        work.session.execute(insert(NOTES).values(text="no request"))

    assert [row.text for row in stored(engine, NOTES)] == ["no request"]
    assert stored(engine, METADATA.tables[TABLE_NAME]) == []


def test_a_repeated_request_writes_nothing_and_gets_the_first_answer(engine, sessions):
    first, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="once"))
    first.keep_answer({"id": 1}, None)

    again, unit_of_work = worker(sessions)
    with pytest.raises(AlreadyCarriedOut), unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="twice"))

    assert [row.text for row in stored(engine, NOTES)] == ["once"]
    assert again.earlier_answer() == ({"id": 1}, None)


def test_a_stored_error_comes_back_as_itself(sessions):
    first, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="written, then refused"))
    refused = NotFound("no such note")
    first.keep_answer(None, (NotFound, refused, None))

    result, (error_type, error, _) = worker(sessions)[0].earlier_answer()

    assert result is None and error_type is NotFound and str(error) == "no such note"


def test_an_answer_lost_with_its_process_is_a_conflict_not_a_second_run(sessions):
    _first, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="once"))

    result, (error_type, error, _) = worker(sessions, wait_seconds=0.2)[0].earlier_answer()

    assert result is None and error_type is Conflict and "already done" in str(error)


def test_records_older_than_kept_are_purged(engine, sessions):
    _record, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.execute(insert(NOTES).values(text="once"))

    assert purge_answered(engine, METADATA, kept_for=timedelta(hours=1)) == 0
    assert purge_answered(engine, METADATA, kept_for=timedelta(seconds=-1)) == 1
    assert stored(engine, METADATA.tables[TABLE_NAME]) == []


def test_a_write_the_session_s_events_do_not_see_still_records_the_request(engine, sessions):
    """Core on the session's connection bypasses the ORM's events: the database's own count of changed rows tells."""
    record, unit_of_work = worker(sessions)
    with unit_of_work() as work:
        work.session.connection().execute(select(NOTES)).all()
    read_only = record.recorded
    with unit_of_work() as work:
        work.session.connection().execute(insert(NOTES).values(text="past the ORM"))

    assert (read_only, record.recorded) == (False, True)
    assert [row.request_id for row in stored(engine, METADATA.tables[TABLE_NAME])] == ["request-1"]
