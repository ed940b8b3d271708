"""The embedded engine: SQLite for the durable index and the inbox, written in one transaction; associations
are searched in memory (memory_index.py), individuals with SQLite FTS5 (embedded_individuals.py)."""

from collections.abc import Iterator
from functools import partial
from uuid import UUID

from sqlalchemy import Engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from contracts.events import EventEnvelope
from contracts.search import (
    AssociationQuery,
    AssociationResults,
    IndividualQuery,
    IndividualResults,
    Suggestions,
    SuggestQuery,
)
from servicekit.database import UnitOfWork, create_database_engine
from services.search.db import AssociationRow, Base, Generations
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import IndividualAudience
from services.search.embedded_individuals import EmbeddedIndividuals
from services.search.embedded_vocabulary import Vocabulary
from services.search.memory_index import AssociationMemoryIndex

ASSOCIATIONS = AssociationRow.__table__
ASSOCIATION_INDEX = "associations"


def _prepare_connection(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Reads are most of the work: keep the index in memory-mapped pages and temporary results in memory.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


class LiveAssociations:
    """The live generation of associations in this process's memory, caught up with SQLite before each query.

    It reads only what other transactions committed, on a connection of its own: what a unit of
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


class EmbeddedEngine:
    """What a process holds for the embedded engine: one SQLite database, and its associations in memory."""

    def __init__(self, database_url: str):
        if make_url(database_url).get_backend_name() != "sqlite":
            raise RuntimeError("the embedded search engine needs SEARCH_DATABASE_URL to be a sqlite:/// URL")
        self.engine = create_database_engine(database_url)
        event.listen(self.engine, "connect", _prepare_connection)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.live_associations = LiveAssociations(self.engine)

    def warm_up(self) -> None:
        """Load the associations into memory now rather than on the first search."""
        self.live_associations.current()

    def unit_of_work(self, handling: tuple[str, EventEnvelope] | None = None) -> UnitOfWork:
        """`work.index` is an EmbeddedIndex; an event in `handling` is recorded in the inbox in the same commit."""
        index = partial(EmbeddedIndex, live_associations=self.live_associations)
        return UnitOfWork(self.session_factory, Base.metadata, repositories={"index": index}, handling=handling)

    def close(self) -> None:
        self.live_associations.close()
        self.engine.dispose()


class EmbeddedIndex:
    """The SearchIndex and RebuildableIndex ports on one SQLite session (one transaction)."""

    def __init__(self, session: Session, *, live_associations: LiveAssociations):
        self.session = session
        self.live_associations = live_associations
        self.individuals = EmbeddedIndividuals(session, Vocabulary(session))

    # Associations ---------------------------------------------------------------------------------------

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        live, building = self._generations()
        stored = self._put_association(live, document, version)
        if building is not None:
            self._put_association(building, document, version)
        return stored

    def remove_association(self, association_id: UUID) -> None:
        live, _ = self._generations()
        removed = self.session.execute(
            delete(ASSOCIATIONS).where(ASSOCIATIONS.c.generation == live, ASSOCIATIONS.c.id == association_id)
        )
        if removed.rowcount:
            self.session.execute(
                update(Generations).where(Generations.index == ASSOCIATION_INDEX).values(resets=Generations.resets + 1)
            )

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults:
        return self.live_associations.current().search(query, public_only=public_only)

    def suggest_associations(self, query: SuggestQuery) -> Suggestions:
        return self.live_associations.current().suggest(query)

    # Rebuilding -------------------------------------------------------------------------------------------

    def begin_rebuild(self) -> None:
        live, building = self._generations()
        if building is not None:
            self.session.execute(delete(ASSOCIATIONS).where(ASSOCIATIONS.c.generation == building))
        self.session.execute(
            update(Generations).where(Generations.index == ASSOCIATION_INDEX).values(building=live + 1)
        )

    def put_rebuilt_associations(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        _, building = self._generations()
        if building is None:
            raise RuntimeError("no rebuild has begun")
        for document, version in documents:
            self._put_association(building, document, version)

    def finish_rebuild(self) -> None:
        live, building = self._generations()
        if building is None:
            raise RuntimeError("no rebuild has begun")
        self.session.execute(
            update(Generations).where(Generations.index == ASSOCIATION_INDEX).values(live=building, building=None)
        )
        self.session.execute(delete(ASSOCIATIONS).where(ASSOCIATIONS.c.generation == live))

    def association_count(self) -> int:
        live, _ = self._generations()
        return self.session.scalar(select(func.count()).where(ASSOCIATIONS.c.generation == live))

    def stored_associations(self) -> Iterator[tuple[AssociationDocument, int]]:
        live, _ = self._generations()
        rows = self.session.execute(
            select(ASSOCIATIONS.c.document, ASSOCIATIONS.c.version).where(ASSOCIATIONS.c.generation == live)
        )
        for document, version in rows:
            yield AssociationDocument.model_validate(document), version

    # Individuals -------------------------------------------------------------------------------------------

    def put_individual(self, document: IndividualDocument, *, version: int) -> bool:
        return self.individuals.put(document, version=version)

    def remove_individual(self, individual_id: UUID, *, version: int) -> bool:
        return self.individuals.remove(individual_id, version=version)

    def search_individuals(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        return self.individuals.search(query, audience)

    def begin_individual_rebuild(self) -> None:
        self.individuals.begin_rebuild()

    def put_rebuilt_individuals(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        self.individuals.put_rebuilt(documents)

    def finish_individual_rebuild(self) -> None:
        self.individuals.finish_rebuild()

    def individual_count(self) -> int:
        return self.individuals.count()

    def stored_individuals(self) -> Iterator[tuple[IndividualDocument, int]]:
        return self.individuals.stored()

    # Inside -------------------------------------------------------------------------------------------------

    def _generations(self) -> tuple[int, int | None]:
        row = self.session.execute(
            select(Generations.live, Generations.building).where(Generations.index == ASSOCIATION_INDEX)
        ).one()
        return row.live, row.building

    def _put_association(self, generation: int, document: AssociationDocument, version: int) -> bool:
        stored = self.session.execute(
            select(ASSOCIATIONS.c.key, ASSOCIATIONS.c.version).where(
                ASSOCIATIONS.c.generation == generation, ASSOCIATIONS.c.id == document.id
            )
        ).first()
        if stored is not None and stored.version >= version:
            return False
        change = self.session.execute(
            update(Generations)
            .where(Generations.index == ASSOCIATION_INDEX)
            .values(changes=Generations.changes + 1)
            .returning(Generations.changes)
        ).scalar_one()
        values = {"version": version, "change": change, "document": document.model_dump(mode="json")}
        if stored is None:
            self.session.execute(insert(ASSOCIATIONS).values(generation=generation, id=document.id, **values))
        else:
            self.session.execute(update(ASSOCIATIONS).where(ASSOCIATIONS.c.key == stored.key).values(**values))
        return True
