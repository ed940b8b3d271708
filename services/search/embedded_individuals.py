"""Individuals in the embedded engine, in generations as associations are; a removed one leaves only id and
version behind."""

from collections.abc import Iterator
from uuid import UUID

from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from contracts.search import IndividualQuery, IndividualResults
from contracts.text import fold
from services.search.db import INDIVIDUAL_TEXT, Generations
from services.search.documents import IndividualDocument
from services.search.domain import IndividualAudience
from services.search.embedded_queries import INDIVIDUAL_LANGUAGES, INDIVIDUALS, individual_hits
from services.search.embedded_vocabulary import Vocabulary
from services.search.text import sort_key

INDIVIDUAL_INDEX = "individuals"


class EmbeddedIndividuals:
    def __init__(self, session: Session, vocabulary: Vocabulary):
        self.session = session
        self.vocabulary = vocabulary

    def put(self, document: IndividualDocument, *, version: int) -> bool:
        """Into the live generation and, while a rebuild runs, the one being rebuilt; True if the live one took it."""
        live, building = self._generations()
        stored = self._put(live, document, version)
        if building is not None:
            self._put(building, document, version)
        return stored

    def remove(self, individual_id: UUID, *, version: int) -> bool:
        live, building = self._generations()
        removed = self._remove(live, individual_id, version)
        if building is not None:
            self._remove(building, individual_id, version)
        return removed

    def search(self, query: IndividualQuery, audience: IndividualAudience) -> IndividualResults:
        live, _ = self._generations()
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
        live, building = self._generations()
        if building is not None:
            self._drop_generation(building)
        self._set_generations(building=live + 1)
        columns = [INDIVIDUALS.c.id, INDIVIDUALS.c.version]
        self.session.execute(
            insert(INDIVIDUALS).from_select(
                ["generation", "id", "version"],
                select(literal(live + 1), *columns).where(
                    INDIVIDUALS.c.generation == live, INDIVIDUALS.c.visibility.is_(None)
                ),
            )
        )

    def put_rebuilt(self, documents: list[tuple[IndividualDocument, int]]) -> None:
        _, building = self._generations()
        if building is None:
            raise RuntimeError("no rebuild of individuals has begun")
        for document, version in documents:
            self._put(building, document, version)

    def finish_rebuild(self) -> None:
        live, building = self._generations()
        if building is None:
            raise RuntimeError("no rebuild of individuals has begun")
        self._set_generations(live=building, building=None)
        self._drop_generation(live)

    def count(self) -> int:
        """How many individuals the live generation holds (not counting removals)."""
        live, _ = self._generations()
        return self.session.scalar(
            select(func.count()).where(INDIVIDUALS.c.generation == live, INDIVIDUALS.c.visibility.is_not(None))
        )

    def stored(self) -> Iterator[tuple[IndividualDocument, int]]:
        live, _ = self._generations()
        rows = self.session.execute(
            select(INDIVIDUALS.c.document, INDIVIDUALS.c.version).where(
                INDIVIDUALS.c.generation == live, INDIVIDUALS.c.visibility.is_not(None)
            )
        )
        for document, version in rows:
            yield IndividualDocument.model_validate(document), version

    # Inside ---------------------------------------------------------------------------------------------------

    def _generations(self) -> tuple[int, int | None]:
        row = self.session.execute(
            select(Generations.live, Generations.building).where(Generations.index == INDIVIDUAL_INDEX)
        ).one()
        return row.live, row.building

    def _set_generations(self, **values) -> None:
        self.session.execute(update(Generations).where(Generations.index == INDIVIDUAL_INDEX).values(**values))

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
            {"key": key, "name": fold(document.name), "city": fold(document.city)},
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
        self.session.execute(text(f"DELETE FROM {INDIVIDUAL_TEXT} WHERE rowid = :key"), {"key": stored.key})
        self.session.execute(delete(INDIVIDUAL_LANGUAGES).where(INDIVIDUAL_LANGUAGES.c.key == stored.key))
        return stored.key

    def _drop_generation(self, generation: int) -> None:
        keys = select(INDIVIDUALS.c.key).where(INDIVIDUALS.c.generation == generation)
        self.session.execute(
            text(f"DELETE FROM {INDIVIDUAL_TEXT} WHERE rowid IN (SELECT key FROM individuals WHERE generation = :g)"),
            {"g": generation},
        )
        self.session.execute(delete(INDIVIDUAL_LANGUAGES).where(INDIVIDUAL_LANGUAGES.c.key.in_(keys)))
        self.session.execute(delete(INDIVIDUALS).where(INDIVIDUALS.c.generation == generation))
