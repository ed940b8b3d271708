"""The embedded engine: SQLite FTS5, in the same transaction as the search service's inbox."""

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from contracts.associations import AssociationV1
from contracts.search import AssociationHit, AssociationQuery, AssociationResults
from services.search.db import FULL_TEXT_TABLE, AssociationDocument
from services.search.text import fold, words

_DELETE_TEXT = text(f"DELETE FROM {FULL_TEXT_TABLE} WHERE rowid = :key")
_INSERT_TEXT = text(
    f"INSERT INTO {FULL_TEXT_TABLE} (rowid, name, city, description) VALUES (:key, :name, :city, :description)"
)
_MATCHING_KEYS = text(
    f"SELECT rowid AS key, bm25({FULL_TEXT_TABLE}) AS rank FROM {FULL_TEXT_TABLE} WHERE {FULL_TEXT_TABLE} MATCH :match"
)
_SPEAKS = text("EXISTS (SELECT 1 FROM json_each(association_documents.languages) WHERE json_each.value = :language)")


def match_expression(query_text: str) -> str | None:
    """Every word must appear, each as a prefix; quoting keeps FTS5 syntax out of people's words."""
    terms = words(query_text)
    return " ".join(f'"{term}"*' for term in terms) if terms else None


class EmbeddedAssociationIndex:
    def __init__(self, session: Session):
        if session.get_bind().dialect.name != "sqlite":
            raise RuntimeError("the embedded search engine needs SEARCH_DATABASE_URL to be a sqlite:/// URL")
        self.session = session

    def upsert(self, association: AssociationV1, *, version: int) -> bool:
        document = self.session.scalar(select(AssociationDocument).where(AssociationDocument.id == association.id))
        if document is not None and document.version >= version:
            return False
        if document is None:
            document = AssociationDocument(id=association.id)
            self.session.add(document)
        document.version = version
        document.name = association.name
        document.sort_name = fold(association.name)
        document.country = association.country
        document.city = association.city
        document.languages = list(association.languages)
        document.status = association.status
        self.session.flush()
        self.session.execute(_DELETE_TEXT, {"key": document.key})
        self.session.execute(
            _INSERT_TEXT,
            {
                "key": document.key,
                "name": fold(association.name),
                "city": fold(association.city),
                "description": fold(association.description),
            },
        )
        return True

    def search(self, query: AssociationQuery) -> AssociationResults:
        matches = None
        statement = select(AssociationDocument)
        match = match_expression(query.q)
        if match is not None:
            matches = _MATCHING_KEYS.columns(key=None, rank=None).bindparams(match=match).subquery("matches")
            statement = statement.join(matches, matches.c.key == AssociationDocument.key)
        if query.country is not None:
            statement = statement.where(AssociationDocument.country == query.country)
        if query.language is not None:
            statement = statement.where(_SPEAKS.bindparams(language=query.language))

        total = self.session.scalar(select(func.count()).select_from(statement.subquery()))
        order = [AssociationDocument.sort_name, AssociationDocument.key]
        if matches is not None:
            order.insert(0, matches.c.rank)
        page = self.session.scalars(statement.order_by(*order).limit(query.size).offset((query.page - 1) * query.size))
        return AssociationResults(
            total=total,
            items=[
                AssociationHit(
                    id=document.id,
                    name=document.name,
                    country=document.country,
                    city=document.city,
                    languages=document.languages,
                    status=document.status,
                )
                for document in page
            ],
        )
