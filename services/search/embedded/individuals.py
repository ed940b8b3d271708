"""Individuals in the embedded engine, in generations as associations are; a removed one leaves only id and
version behind."""

from collections.abc import Iterator
from uuid import UUID

from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from contracts.search import IndividualQuery, IndividualResults
from services.search.db import INDIVIDUAL_TEXT
from services.search.documents import IndividualDocument
from services.search.domain import Clock, IndividualAudience
from services.search.embedded.generations import IndexGenerations
from services.search.embedded.individual_queries import INDIVIDUAL_LANGUAGES, INDIVIDUALS, individual_hits
from services.search.embedded.vocabulary import Vocabulary
from services.search.text import sort_key, words

INDIVIDUAL_INDEX = "individuals"


class EmbeddedIndividuals:
    def __init__(self, session: Session, vocabulary: Vocabulary, *, clock: Clock):
        self.session = session
        self.vocabulary = vocabulary
        self.generations = IndexGenerations(session, INDIVIDUAL_INDEX, clock=clock)

    def put(self, document: IndividualDocument, *, version: int) -> bool:
        """Unless a newer version (or their removal) is there; True if the live generation took it."""
        return self.generations.write_to_each(lambda generation: self._put(generation, document, version))

    def remove(self, individual_id: UUID, *, version: int) -> bool:
        return self.generations.write_to_each(lambda generation: self._remove(generation, individual_id, version))

    def search(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        live = self.generations.live()
        hits = individual_hits(query, audience, self.vocabulary.match_expression(query.q), generation=live)
        hits = hits.subquery("hits")
        total = self.session.scalar(select(func.count()).select_from(hits))
        order = ([hits.c.rank] if query.q else []) + [hits.c.sort_name, hits.c.id]
        page = self.session.execute(
            select(hits.c.document).order_by(*order).limit(query.size).offset((query.page - 1) * query.size)
        ).scalars()
        return IndividualResults(
            total=total, items=[IndividualDocument.model_validate(document).hit() for document in page]
        )

    # Rebuilding ---------------------------------------------------------------------------------------------

    def begin_rebuild(self) -> None:
        """A new generation beside the live one, holding only the live one's removals, so that an older event
        cannot bring a removed individual back after the switch. An unfinished earlier one is discarded."""
        live = self.generations.live()
        building = self.generations.begin_rebuild(drop=self._drop_generation)
        self.session.execute(
            insert(INDIVIDUALS).from_select(
                ["generation", "id", "version"],
                select(literal(building), INDIVIDUALS.c.id, INDIVIDUALS.c.version).where(
                    INDIVIDUALS.c.generation == live, INDIVIDUALS.c.visibility.is_(None)
                ),
            )
        )

    def put_rebuilt(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        building = self.generations.hold_rebuild()
        for document, version in documents:
            self._put(building, document, version)

    def finish_rebuild(self) -> None:
        self.generations.finish_rebuild(drop=self._drop_generation)

    def count(self) -> int:
        """How many individuals the live generation holds (not counting removals)."""
        return self.session.scalar(select(func.count()).where(*self._live_individuals()))

    def stored(self) -> Iterator[tuple[IndividualDocument, int]]:
        rows = self.session.execute(
            select(INDIVIDUALS.c.document, INDIVIDUALS.c.version).where(*self._live_individuals())
        )
        for document, version in rows:
            yield IndividualDocument.model_validate(document), version

    # Inside ---------------------------------------------------------------------------------------------------

    def _live_individuals(self) -> tuple:
        return INDIVIDUALS.c.generation == self.generations.live(), INDIVIDUALS.c.visibility.is_not(None)

    def _put(self, generation: int, document: IndividualDocument, version: int) -> bool:
        stored = self._stored(generation, document.id)
        if stored is not None and stored.version >= version:
            return False
        values = {
            "version": version,
            "visibility": document.visibility,
            "country": document.country,
            "sort_name": sort_key(document.name),
            "document": document.model_dump(mode="json"),
        }
        key = self._write(stored, generation, document.id, values)
        self.session.execute(
            text(f"INSERT INTO {INDIVIDUAL_TEXT} (rowid, name, city) VALUES (:key, :name, :city)"),
            {"key": key, "name": " ".join(words(document.name)), "city": " ".join(words(document.city))},
        )
        self.session.execute(
            insert(INDIVIDUAL_LANGUAGES), [{"key": key, "language": language} for language in document.languages]
        )
        self.vocabulary.learn([document.name, document.city])
        return True

    def _remove(self, generation: int, individual_id: UUID, version: int) -> bool:
        stored = self._stored(generation, individual_id)
        if stored is not None and stored.version >= version:
            return False
        values = {"version": version, "visibility": None, "country": None, "sort_name": None, "document": None}
        self._write(stored, generation, individual_id, values)
        return True

    def _stored(self, generation: int, individual_id: UUID):
        return self.session.execute(
            select(INDIVIDUALS.c.key, INDIVIDUALS.c.version).where(
                INDIVIDUALS.c.generation == generation, INDIVIDUALS.c.id == individual_id
            )
        ).first()

    def _write(self, stored, generation: int, individual_id: UUID, values: dict) -> int:
        """Insert or overwrite the row; an overwritten one loses its full text and languages."""
        if stored is None:
            inserted = self.session.execute(
                insert(INDIVIDUALS).values(generation=generation, id=individual_id, **values)
            )
            return inserted.inserted_primary_key[0]
        self.session.execute(update(INDIVIDUALS).where(INDIVIDUALS.c.key == stored.key).values(**values))
        replaced = self.session.execute(
            text(f"SELECT name || ' ' || city FROM {INDIVIDUAL_TEXT} WHERE rowid = :key"), {"key": stored.key}
        ).scalar()
        self.session.execute(text(f"DELETE FROM {INDIVIDUAL_TEXT} WHERE rowid = :key"), {"key": stored.key})
        self.session.execute(delete(INDIVIDUAL_LANGUAGES).where(INDIVIDUAL_LANGUAGES.c.key == stored.key))
        # A removed person's words, or a renamed person's old ones, leave the vocabulary unless someone has them.
        self.vocabulary.forget_unused((replaced or "").split())
        return stored.key

    def _drop_generation(self, generation: int) -> None:
        keys = select(INDIVIDUALS.c.key).where(INDIVIDUALS.c.generation == generation)
        self.session.execute(
            text(f"DELETE FROM {INDIVIDUAL_TEXT} WHERE rowid IN (SELECT key FROM individuals WHERE generation = :g)"),
            {"g": generation},
        )
        self.session.execute(delete(INDIVIDUAL_LANGUAGES).where(INDIVIDUAL_LANGUAGES.c.key.in_(keys)))
        self.session.execute(delete(INDIVIDUALS).where(INDIVIDUALS.c.generation == generation))
