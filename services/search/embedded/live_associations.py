"""The live generation of associations in this process's memory, caught up with SQLite before each query."""

from sqlalchemy import Engine

from services.search.documents import AssociationDocument
from services.search.embedded.associations import ASSOCIATION_INDEX
from services.search.embedded.memory_index import AssociationMemoryIndex


class LiveAssociations:
    """It reads only what other transactions committed, on a connection of its own: what a unit of
    work has not committed yet never reaches it. SQLite's `data_version` tells at almost no cost
    whether anything was committed since the last look.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.index = AssociationMemoryIndex()
        self.loaded: tuple[int, int] | None = None
        self.changes = 0
        self.data_version: int | None = None
        self.connection = None

    def current(self) -> AssociationMemoryIndex:
        if self.connection is None:
            # Outside any transaction (pysqlite opens none for SELECT), so each read sees the latest commit.
            self.connection = self.engine.raw_connection()
        cursor = self.connection.cursor()
        try:
            data_version = cursor.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self.data_version:
                self._catch_up(cursor)
                self.data_version = data_version
        finally:
            cursor.close()
        return self.index

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _catch_up(self, cursor) -> None:
        live, resets, changes = cursor.execute(
            'SELECT live, resets, changes FROM index_generations WHERE "index" = ?', (ASSOCIATION_INDEX,)
        ).fetchone()
        if self.loaded != (live, resets):
            self.index = AssociationMemoryIndex()
            self.loaded, self.changes = (live, resets), -1
        if changes == self.changes:
            return
        rows = cursor.execute(
            "SELECT document FROM associations WHERE generation = ? AND change > ?", (live, self.changes)
        )
        for (document,) in rows:
            self.index.put(AssociationDocument.model_validate_json(document))
        self.changes = changes
