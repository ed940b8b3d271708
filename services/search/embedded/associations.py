"""The durable copy of associations in SQLite, in generations; live_associations.py reads it into memory."""

from collections.abc import Iterator
from uuid import UUID

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.search.db import AssociationRow
from services.search.documents import AssociationDocument
from services.search.domain import Clock
from services.search.embedded.generations import IndexGenerations

ASSOCIATIONS = AssociationRow.__table__
ASSOCIATION_INDEX = "associations"

# An indexed event's statements, built once and run on the session's connection (see generations.py).
_STORED = select(ASSOCIATIONS.c.key, ASSOCIATIONS.c.version).where(
    ASSOCIATIONS.c.generation == bindparam("the_generation"), ASSOCIATIONS.c.id == bindparam("the_id")
)
_INSERT = insert(ASSOCIATIONS)
_REPLACE = update(ASSOCIATIONS).where(ASSOCIATIONS.c.key == bindparam("the_key"))


class StoredAssociations:
    def __init__(self, session: Session, *, clock: Clock):
        self.session = session
        self.generations = IndexGenerations(session, ASSOCIATION_INDEX, clock=clock)

    def put(self, document: AssociationDocument, *, version: int) -> bool:
        """Unless a newer version is there; True if the live generation took it."""
        return self.generations.write_to_each(lambda generation: self._put(generation, document, version))

    def remove(self, association_id: UUID) -> None:
        removed = self.session.execute(
            delete(ASSOCIATIONS).where(
                ASSOCIATIONS.c.generation == self.generations.live(), ASSOCIATIONS.c.id == association_id
            )
        )
        if removed.rowcount:
            self.generations.record_removal()

    def begin_rebuild(self) -> None:
        self.generations.begin_rebuild(drop=self._drop_generation)

    def put_rebuilt(self, documents: list[tuple[AssociationDocument, int]]) -> None:
        building = self.generations.hold_rebuild()
        for document, version in documents:
            self._put(building, document, version)

    def finish_rebuild(self) -> None:
        self.generations.finish_rebuild(drop=self._drop_generation)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).where(ASSOCIATIONS.c.generation == self.generations.live()))

    def stored(self) -> Iterator[tuple[AssociationDocument, int]]:
        rows = self.session.execute(
            select(ASSOCIATIONS.c.document, ASSOCIATIONS.c.version).where(
                ASSOCIATIONS.c.generation == self.generations.live()
            )
        )
        for document, version in rows:
            yield AssociationDocument.model_validate(document), version

    def _put(self, generation: int, document: AssociationDocument, version: int) -> bool:
        connection = self.session.connection()
        stored = connection.execute(_STORED, {"the_generation": generation, "the_id": document.id}).first()
        if stored is not None and stored.version >= version:
            return False
        values = {
            "version": version,
            "change": self.generations.record_write(),
            "document": document.model_dump(mode="json"),
        }
        if stored is None:
            connection.execute(_INSERT, {"generation": generation, "id": document.id, **values})
        else:
            connection.execute(_REPLACE, {"the_key": stored.key, **values})
        return True

    def _drop_generation(self, generation: int) -> None:
        self.session.execute(delete(ASSOCIATIONS).where(ASSOCIATIONS.c.generation == generation))
