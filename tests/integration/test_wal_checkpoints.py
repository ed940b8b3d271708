"""servicekit/wal_checkpoints.py on a real SQLite file: the checkpointing thread copies committed rows from the
write-ahead log into the database file itself (which a commit of servicekit's engines no longer does before 10,000
pages), and stops when asked."""

import shutil
import sqlite3

import eventlet
from sqlalchemy import text

from servicekit.database import create_database_engine
from servicekit.wal_checkpoints import WalCheckpointer


def rows_in_the_file_alone(path, copy) -> int | None:
    """The rows a reader finds in the database file without its log (a copy of the file, the log left behind); None
    while the file does not hold the table yet."""
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as connection:
        try:
            return connection.execute("SELECT count(*) FROM notes").fetchone()[0]
        except sqlite3.OperationalError:
            return None


def test_committed_rows_reach_the_database_file_and_the_thread_stops(tmp_path):
    path = tmp_path / "notes.sqlite3"
    engine = create_database_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "x" * 500}] * 200)
    before = rows_in_the_file_alone(path, tmp_path / "copy.sqlite3")
    checkpointer = WalCheckpointer(engine)
    thread = eventlet.spawn(checkpointer.run)

    seen = None
    for _ in range(100):  # the thread checkpoints every 0.1 s
        eventlet.sleep(0.05)
        seen = rows_in_the_file_alone(path, tmp_path / "copy.sqlite3")
        if seen == 200:
            break
    checkpointer.stop()
    thread.wait()
    engine.dispose()

    assert before is None  # the commits left everything in the log
    assert seen == 200
    assert thread.dead
