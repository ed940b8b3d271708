"""Individuals in the embedded engine; a removed one leaves only id and version behind."""

from uuid import UUID

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from contracts.search import IndividualQuery, IndividualResults
from contracts.text import fold
from services.search.db import INDIVIDUAL_TEXT
from services.search.documents import IndividualDocument
from services.search.domain import IndividualAudience
from services.search.embedded_queries import INDIVIDUAL_LANGUAGES, INDIVIDUALS, individual_hits
from services.search.embedded_vocabulary import Vocabulary
from services.search.text import sort_key


class EmbeddedIndividuals:
    def __init__(self, session: Session, vocabulary: Vocabulary):
        self.session = session
        self.vocabulary = vocabulary

    def put(self, document: IndividualDocument, *, version: int) -> bool:
        stored = self._stored(document.id)
        if stored is not None and stored.version >= version:
            return False
        values = {
            "version": version,
            "visibility": document.visibility,
            "country": document.country,
            "sort_name": sort_key(document.name),
            "document": document.model_dump(mode="json"),
        }
        key = self._write(stored, document.id, values)
        self.session.execute(
            text(f"INSERT INTO {INDIVIDUAL_TEXT} (rowid, name, city) VALUES (:key, :name, :city)"),
            {"key": key, "name": fold(document.name), "city": fold(document.city)},
        )
        self.session.execute(
            insert(INDIVIDUAL_LANGUAGES), [{"key": key, "language": language} for language in document.languages]
        )
        self.vocabulary.learn([document.name, document.city])
        return True

    def remove(self, individual_id: UUID, *, version: int) -> bool:
        stored = self._stored(individual_id)
        if stored is not None and stored.version >= version:
            return False
        values = {"version": version, "visibility": None, "country": None, "sort_name": None, "document": None}
        self._write(stored, individual_id, values)
        return True

    def search(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        hits = individual_hits(query, audience, self.vocabulary.match_expression(query.q)).subquery("hits")
        total = self.session.scalar(select(func.count()).select_from(hits))
        order = ([hits.c.rank] if query.q else []) + [hits.c.sort_name, hits.c.id]
        page = self.session.execute(
            select(hits.c.document).order_by(*order).limit(query.size).offset((query.page - 1) * query.size)
        ).scalars()
        return IndividualResults(
            total=total, items=[IndividualDocument.model_validate(document).hit() for document in page]
        )

    def _stored(self, individual_id: UUID):
        return self.session.execute(
            select(INDIVIDUALS.c.key, INDIVIDUALS.c.version).where(INDIVIDUALS.c.id == individual_id)
        ).first()

    def _write(self, stored, individual_id: UUID, values: dict) -> int:
        """Insert or overwrite the row; an overwritten one loses its full text and languages."""
        if stored is None:
            return self.session.execute(insert(INDIVIDUALS).values(id=individual_id, **values)).inserted_primary_key[0]
        self.session.execute(update(INDIVIDUALS).where(INDIVIDUALS.c.key == stored.key).values(**values))
        self.session.execute(text(f"DELETE FROM {INDIVIDUAL_TEXT} WHERE rowid = :key"), {"key": stored.key})
        self.session.execute(delete(INDIVIDUAL_LANGUAGES).where(INDIVIDUAL_LANGUAGES.c.key == stored.key))
        return stored.key
