"""A full disk at a write or at commit reaches the person as 503 with Retry-After and a sentence, on SQLite and
PostgreSQL."""

import json

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, event, insert, text
from sqlalchemy.orm import sessionmaker

from contracts.errors import Unavailable
from gateway.errors import error_response
from servicekit.database import DISK_FULL_MESSAGE, UnitOfWork, create_database_engine

metadata = MetaData()
notes = Table("disk_full_notes", metadata, Column("id", Integer, primary_key=True), Column("body", LargeBinary))

# On PostgreSQL the disk cannot be filled in a test: a deferred constraint trigger raises PostgreSQL's own
# disk_full (SQLSTATE 53100) at commit, as "could not extend file" would.
POSTGRES_DISK_FULL_AT_COMMIT = """
CREATE FUNCTION disk_full_notes_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device' USING ERRCODE = 'disk_full';
END $$;
CREATE CONSTRAINT TRIGGER disk_full_notes_full AFTER INSERT ON disk_full_notes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disk_full_notes_full();
"""


@pytest.fixture
def full_engine(database_url):
    engine = create_database_engine(database_url)
    metadata.create_all(engine)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _fill_up(dbapi_connection, _record):
            # The file may not grow past the pages it has: SQLite answers SQLITE_FULL, "database or disk is full".
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        engine.dispose()
    else:
        with engine.begin() as connection:
            connection.execute(text(POSTGRES_DISK_FULL_AT_COMMIT))
    yield engine
    engine.dispose()


def test_a_full_disk_at_a_write_or_at_commit_is_unavailable_with_a_sentence_and_nothing_is_saved(full_engine):
    with pytest.raises(Unavailable) as raised, UnitOfWork(sessionmaker(full_engine), metadata) as work:
        work.session.execute(insert(notes).values(body=b"x" * 1_000_000))

    assert raised.value.message == DISK_FULL_MESSAGE
    with full_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM disk_full_notes")).scalar_one() == 0


def test_the_gateway_answers_a_full_disk_with_503_retry_after_and_the_sentence():
    response = error_response(Unavailable(DISK_FULL_MESSAGE))

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert json.loads(response.get_data(as_text=True)) == {"error": "unavailable", "message": DISK_FULL_MESSAGE}
