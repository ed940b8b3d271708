"""SQLite's write-ahead log copied back into the database file by a thread of the pool, not by a request.

SQLite checkpoints in the connection whose commit takes the log past `wal_autocheckpoint` pages (1,000 by
default). Under eventlet that commit holds the whole process while pages are copied and the file synced: in
messaging, 5-15 ms about every 50 posts, which every request under way waited for. A service's Database provider
runs a passive checkpoint every few tenths of a second in eventlet's thread pool, where SQLite works without the
GIL, and every connection's own threshold is raised, so that a commit checkpoints only if that thread fell behind.
"""

import logging

import eventlet
from eventlet import tpool
from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_SECONDS = 0.1
# Pages (4 KiB) the log may hold before a committing connection checkpoints itself: ten times SQLite's default. A
# passive checkpoint while writes go on leaves the last frames behind, so the log starts again from its beginning
# only after a checkpoint that finds no writer, such as a commit's own.
AUTOCHECKPOINT_PAGES = 10_000


def checkpointed_file(engine: Engine) -> bool:
    """A SQLite database in a file (an in-memory one has no log)."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


class WalCheckpointer:
    """`run` in a managed thread of the service; `stop` ends it after the checkpoint under way."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._stopping = False

    def run(self) -> None:
        connection, seen = None, None
        try:
            while not self._stopping:
                eventlet.sleep(CHECKPOINT_EVERY_SECONDS)
                try:
                    connection = connection or self._engine.raw_connection()
                    # Changed by every other connection's commit: an idle service's thread is not woken for nothing.
                    version = connection.driver_connection.execute("PRAGMA data_version").fetchone()[0]
                    if version != seen:
                        tpool.execute(_checkpoint, connection.driver_connection)
                        seen = version
                except Exception as exc:
                    log.warning("could not checkpoint the SQLite log (tried again later): %s", exc)
        finally:
            if connection is not None:
                connection.close()

    def stop(self) -> None:
        self._stopping = True


def _checkpoint(connection) -> None:
    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
