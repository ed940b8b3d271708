"""The embedded engine a process holds, and the search port over one SQLite session."""

import logging
from collections.abc import Iterator
from functools import partial
from uuid import UUID

from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
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
from services.search.db import Base
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import Clock, IndividualAudience, system_clock
from services.search.embedded.associations import StoredAssociations
from services.search.embedded.individuals import EmbeddedIndividuals
from services.search.embedded.live_associations import LiveAssociations
from services.search.embedded.vocabulary import Vocabulary
from services.search.settings import require_sqlite

log = logging.getLogger(__name__)


def _prepare_connection(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Reads are most of the work: keep the index in memory-mapped pages and temporary results in memory.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


class EmbeddedEngine:
    """What a process holds for the embedded engine: one SQLite database, and its associations in memory."""

    def __init__(self, database_url: str, *, clock: Clock = system_clock):
        require_sqlite(database_url)
        self.engine = create_database_engine(database_url)
        event.listen(self.engine, "connect", _prepare_connection)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.live_associations = LiveAssociations(self.engine)
        self.clock = clock

    def warm_up(self) -> None:
        """Load the associations into memory now rather than on the first search."""
        self.live_associations.current()

    def unit_of_work(self, handling: tuple[str, EventEnvelope] | None = None) -> UnitOfWork:
        """`work.index` is an EmbeddedIndex; an event in `handling` is recorded in the inbox in the same commit."""
        index = partial(EmbeddedIndex, live_associations=self.live_associations, clock=self.clock)
        return UnitOfWork(self.session_factory, Base.metadata, repositories={"index": index}, handling=handling)

    def answers(self) -> bool:
        """Readiness: a row of the index can be read (SELECT 1 would pass on an empty or unmigrated file)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(select(Base.metadata.tables["associations"].c.id).limit(1)).all()
        except SQLAlchemyError as exc:
            log.warning("readiness: the embedded search index cannot be read: %s", exc)
            return False
        return True

    def close(self) -> None:
        self.live_associations.close()
        self.engine.dispose()


class EmbeddedIndex:
    """The SearchIndex and RebuildableIndex ports on one SQLite session (one transaction)."""

    def __init__(self, session: Session, *, live_associations: LiveAssociations, clock: Clock):
        self.live_associations = live_associations
        self.clock = clock
        self.associations = StoredAssociations(session, clock=clock)
        self.individuals = EmbeddedIndividuals(session, Vocabulary(session), clock=clock)

    # Associations ---------------------------------------------------------------------------------------

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        return self.associations.put(document, version=version)

    def remove_association(self, association_id: UUID) -> None:
        self.associations.remove(association_id)

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults:
        return self.live_associations.current().search(query, public_only=public_only, now=self.clock())

    def suggest_associations(self, query: SuggestQuery) -> Suggestions:
        return self.live_associations.current().suggest(query, now=self.clock())

    def begin_rebuild(self) -> None:
        self.associations.begin_rebuild()

    def put_rebuilt_associations(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        self.associations.put_rebuilt(documents)

    def finish_rebuild(self) -> None:
        self.associations.finish_rebuild()

    def association_count(self) -> int:
        return self.associations.count()

    def stored_associations(self) -> Iterator[tuple[AssociationDocument, int]]:
        return self.associations.stored()

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
