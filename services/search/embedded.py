"""The embedded engine: SQLite FTS5, written in the same transaction as the search service's inbox."""

from collections.abc import Iterator
from uuid import UUID

from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from contracts.events import EventEnvelope
from contracts.search import (
    AssociationQuery,
    AssociationResults,
    Facets,
    IndividualQuery,
    IndividualResults,
    Suggestions,
    SuggestQuery,
)
from contracts.text import fold
from servicekit.database import UnitOfWork, create_database_engine
from services.search.db import ASSOCIATION_TEXT, Base, Generations
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import IndividualAudience
from services.search.embedded_individuals import EmbeddedIndividuals
from services.search.embedded_queries import (
    ASSOCIATION_CATEGORIES,
    ASSOCIATION_LANGUAGES,
    ASSOCIATIONS,
    SUGGESTED_COLUMNS,
    association_hits,
    association_order,
    facet_counts,
    full_text_matches,
    match_expression,
)
from services.search.embedded_vocabulary import Vocabulary
from services.search.geo import great_circle_km

ASSOCIATION_INDEX = "associations"


def _great_circle_km(lat, lon, from_lat, from_lon) -> float | None:
    return None if lat is None or lon is None else great_circle_km(lat, lon, from_lat, from_lon)


def _prepare_connection(dbapi_connection, _record) -> None:
    dbapi_connection.create_function("great_circle_km", 4, _great_circle_km, deterministic=True)
    cursor = dbapi_connection.cursor()
    # Reads are most of the work: keep the index in memory-mapped pages and temporary results in memory.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


class EmbeddedEngine:
    """What a process holds for the embedded engine: one SQLite database with the index and the inbox."""

    def __init__(self, database_url: str):
        if make_url(database_url).get_backend_name() != "sqlite":
            raise RuntimeError("the embedded search engine needs SEARCH_DATABASE_URL to be a sqlite:/// URL")
        self.engine = create_database_engine(database_url)
        event.listen(self.engine, "connect", _prepare_connection)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    def unit_of_work(self, handling: tuple[str, EventEnvelope] | None = None) -> UnitOfWork:
        """`work.index` is an EmbeddedIndex; an event in `handling` is recorded in the inbox in the same commit."""
        return UnitOfWork(self.session_factory, Base.metadata, repositories={"index": EmbeddedIndex}, handling=handling)

    def close(self) -> None:
        self.engine.dispose()


class EmbeddedIndex:
    """The SearchIndex and RebuildableAssociationIndex ports on one SQLite session (one transaction)."""

    def __init__(self, session: Session):
        self.session = session
        self.vocabulary = Vocabulary(session)
        self.individuals = EmbeddedIndividuals(session, self.vocabulary)

    # Associations ---------------------------------------------------------------------------------------

    def put_association(self, document: AssociationDocument, *, version: int) -> bool:
        live, building = self._generations()
        stored = self._put_association(live, document, version)
        if building is not None:
            self._put_association(building, document, version)
        return stored

    def remove_association(self, association_id: UUID) -> None:
        live, _ = self._generations()
        keys = select(ASSOCIATIONS.c.key).where(ASSOCIATIONS.c.generation == live, ASSOCIATIONS.c.id == association_id)
        self._remove_associations(keys)

    def search_associations(self, query: AssociationQuery, *, public_only: bool) -> AssociationResults:
        live, _ = self._generations()
        statement, _, _ = association_hits(
            query, generation=live, public_only=public_only, expression=self.vocabulary.match_expression(query.q)
        )
        hits = statement.subquery("hits")
        by_country = _counts(self.session.execute(select(hits.c.country, func.count()).group_by(hits.c.country)))
        page = self.session.execute(
            select(hits.c.document)
            .order_by(*association_order(query, hits))
            .limit(query.size)
            .offset((query.page - 1) * query.size)
        ).scalars()
        return AssociationResults(
            total=sum(by_country.values()),
            items=[AssociationDocument.model_validate(document).hit(query.near) for document in page],
            facets=Facets(
                country=by_country,
                language=_counts(self.session.execute(facet_counts(hits, ASSOCIATION_LANGUAGES, "language"))),
                category=_counts(self.session.execute(facet_counts(hits, ASSOCIATION_CATEGORIES, "category"))),
            ),
        )

    def suggest_associations(self, query: SuggestQuery) -> Suggestions:
        expression = match_expression(query.q)
        if expression is None:
            return Suggestions(items=[])
        live, _ = self._generations()
        matches = full_text_matches(ASSOCIATION_TEXT, f"{SUGGESTED_COLUMNS}: ({expression})")
        documents = self.session.execute(
            select(ASSOCIATIONS.c.document)
            .join(matches, matches.c.key == ASSOCIATIONS.c.key)
            .where(ASSOCIATIONS.c.generation == live, ASSOCIATIONS.c.public)
            .order_by(matches.c.rank, ASSOCIATIONS.c.sort_name, ASSOCIATIONS.c.id)
            .limit(query.size)
        ).scalars()
        return Suggestions(items=[AssociationDocument.model_validate(document).suggestion() for document in documents])

    # Rebuilding -------------------------------------------------------------------------------------------

    def begin_rebuild(self) -> None:
        live, building = self._generations()
        if building is not None:
            self._remove_associations(select(ASSOCIATIONS.c.key).where(ASSOCIATIONS.c.generation == building))
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
        self._remove_associations(select(ASSOCIATIONS.c.key).where(ASSOCIATIONS.c.generation == live))

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
        values = {
            "version": version,
            "public": document.public,
            "status": document.status,
            "country": document.country,
            "sort_name": fold(document.name),
            "lat": document.location.lat if document.location else None,
            "lon": document.location.lon if document.location else None,
            "registered_at": document.registered_at,
            "document": document.model_dump(mode="json"),
        }
        if stored is None:
            key = self.session.execute(
                insert(ASSOCIATIONS).values(generation=generation, id=document.id, **values)
            ).inserted_primary_key[0]
        else:
            key = stored.key
            self.session.execute(update(ASSOCIATIONS).where(ASSOCIATIONS.c.key == key).values(**values))
            self._remove_association_details(select(ASSOCIATIONS.c.key).where(ASSOCIATIONS.c.key == key))
        self.session.execute(
            text(
                f"INSERT INTO {ASSOCIATION_TEXT} (rowid, name, alternate_names, office_bearers, city, description)"
                " VALUES (:key, :name, :alternate_names, :office_bearers, :city, :description)"
            ),
            {
                "key": key,
                "name": fold(document.name),
                "alternate_names": fold("\n".join(document.alternate_names)),
                "office_bearers": fold("\n".join(document.office_bearer_names)),
                "city": fold(document.city),
                "description": fold(document.description),
            },
        )
        self._add_rows(ASSOCIATION_LANGUAGES, key, "language", document.languages)
        self._add_rows(ASSOCIATION_CATEGORIES, key, "category", document.categories)
        self.vocabulary.learn(
            [document.name, document.city, document.description, *document.alternate_names]
            + document.office_bearer_names
        )
        return True

    def _add_rows(self, table, key: int, name: str, values: list[str]) -> None:
        if values:
            self.session.execute(insert(table), [{"key": key, name: value} for value in values])

    def _remove_association_details(self, keys) -> None:
        """Full text, languages and categories of the associations whose keys `keys` selects."""
        self.session.execute(text(f"DELETE FROM {ASSOCIATION_TEXT} WHERE rowid IN ({_sql(keys)})"))
        self.session.execute(delete(ASSOCIATION_LANGUAGES).where(ASSOCIATION_LANGUAGES.c.key.in_(keys)))
        self.session.execute(delete(ASSOCIATION_CATEGORIES).where(ASSOCIATION_CATEGORIES.c.key.in_(keys)))

    def _remove_associations(self, keys) -> None:
        self._remove_association_details(keys)
        self.session.execute(delete(ASSOCIATIONS).where(ASSOCIATIONS.c.key.in_(keys)))


def _counts(rows) -> dict[str, int]:
    """Most frequent first, then alphabetical, as Elasticsearch orders its terms aggregation."""
    return dict(sorted(((value, count) for value, count in rows), key=lambda pair: (-pair[1], pair[0])))


def _sql(statement) -> str:
    """A SELECT of keys, with its values bound inline (they are integers), to use inside text()."""
    return str(statement.compile(compile_kwargs={"literal_binds": True}))
