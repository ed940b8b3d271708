"""The embedded engine's SELECTs: filters, typo-tolerant full-text matches, facets and orderings."""

from collections.abc import Mapping

from sqlalchemy import Float, Integer, Select, and_, column, false, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from contracts.search import AssociationQuery, IndividualQuery
from services.search.db import (
    ASSOCIATION_TEXT,
    INDIVIDUAL_TEXT,
    AssociationCategory,
    AssociationLanguage,
    AssociationRow,
    IndividualLanguage,
    IndividualRow,
)
from services.search.domain import IndividualAudience
from services.search.geo import bounding_box
from services.search.text import query_words

ASSOCIATIONS = AssociationRow.__table__
ASSOCIATION_LANGUAGES = AssociationLanguage.__table__
ASSOCIATION_CATEGORIES = AssociationCategory.__table__
INDIVIDUALS = IndividualRow.__table__
INDIVIDUAL_LANGUAGES = IndividualLanguage.__table__

# bm25 weights of name, alternate names, office-bearers, city and description: a word in the name counts most.
ASSOCIATION_WEIGHTS = "10.0, 8.0, 2.0, 3.0, 1.0"
SUGGESTED_COLUMNS = "{name alternate_names}"


def match_expression(query_text: str, typo_variants: Mapping[str, list[str]] | None = None) -> str | None:
    """Every word must appear, each as a prefix or as one of its typo variants.

    Quoting keeps FTS5 syntax out of people's words.
    """
    clauses = []
    for term in query_words(query_text):
        alternatives = [f'"{term}"*'] + [f'"{variant}"' for variant in (typo_variants or {}).get(term, [])]
        clauses.append(alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})")
    return " ".join(clauses) or None


def full_text_matches(table: str, expression: str, weights: str = ""):
    """(key, rank) of the rows matching; a lower rank is a better match."""
    rank = f"bm25({table}, {weights})" if weights else f"bm25({table})"
    return (
        text(f"SELECT rowid AS key, {rank} AS rank FROM {table} WHERE {table} MATCH :expression")
        .columns(column("key", Integer), column("rank", Float))
        .bindparams(expression=expression)
        .subquery("matches")
    )


def association_hits(
    query: AssociationQuery, *, generation: int, public_only: bool, expression: str | None
) -> tuple[Select, ColumnElement, ColumnElement]:
    """The hits with what sorting needs, and the rank and distance columns (NULL when not asked for)."""
    table = ASSOCIATIONS
    distance = (
        func.great_circle_km(table.c.lat, table.c.lon, query.near.lat, query.near.lon)
        if query.near is not None
        else literal(None, Float)
    )
    rank = literal(0.0, Float)
    statement = select(table.c.key, table.c.id, table.c.country, table.c.sort_name, table.c.registered_at)
    if expression is not None:
        matches = full_text_matches(ASSOCIATION_TEXT, expression, ASSOCIATION_WEIGHTS)
        statement = statement.join(matches, matches.c.key == table.c.key)
        rank = matches.c.rank
    statement = statement.add_columns(table.c.document, rank.label("rank"), distance.label("distance"))
    statement = statement.where(table.c.generation == generation)
    if public_only:
        statement = statement.where(table.c.public)
    if query.status:
        statement = statement.where(table.c.status.in_(query.status))
    if query.country:
        statement = statement.where(table.c.country.in_(query.country))
    if query.language:
        statement = statement.where(_having(ASSOCIATION_LANGUAGES, "language", query.language, table.c.key))
    if query.category:
        statement = statement.where(_having(ASSOCIATION_CATEGORIES, "category", query.category, table.c.key))
    if query.near is not None and query.radius_km is not None:
        statement = statement.where(_within(query, distance))
    return statement, rank, distance


def _having(table, name: str, values: list[str], key) -> ColumnElement:
    return key.in_(select(table.c.key).where(table.c[name].in_(values)))


def _within(query: AssociationQuery, distance: ColumnElement) -> ColumnElement:
    """The box lets the index on latitude narrow the rows; the great-circle distance decides."""
    table = ASSOCIATIONS
    box = bounding_box(query.near.lat, query.near.lon, query.radius_km)
    return and_(
        table.c.lat.between(box.min_lat, box.max_lat),
        or_(*(table.c.lon.between(west, east) for west, east in box.lon_ranges)),
        distance <= query.radius_km,
    )


def association_order(query: AssociationQuery, hits) -> list[ColumnElement]:
    """Ties are broken by name, then id, so that pages never overlap or skip."""
    nearest_first = [hits.c.distance.is_(None), hits.c.distance]
    by_name = [hits.c.sort_name, hits.c.id]
    if query.sort == "distance":
        return nearest_first + by_name
    if query.sort == "name":
        return by_name
    if query.sort == "newest":
        return [hits.c.registered_at.desc(), hits.c.id]
    by_text = [hits.c.rank] if query.q else []
    return by_text + (nearest_first if query.near is not None else []) + by_name


def facet_counts(hits, table, name: str) -> Select:
    return select(table.c[name], func.count()).join(hits, hits.c.key == table.c.key).group_by(table.c[name])


def individual_hits(query: IndividualQuery, audience: IndividualAudience, expression: str | None) -> Select:
    table = INDIVIDUALS
    rank = literal(0.0, Float)
    statement = select(table.c.key, table.c.id, table.c.sort_name, table.c.document)
    if expression is not None:
        matches = full_text_matches(INDIVIDUAL_TEXT, expression)
        statement = statement.join(matches, matches.c.key == table.c.key)
        rank = matches.c.rank
    statement = statement.add_columns(rank.label("rank")).where(table.c.visibility.is_not(None))
    if not audience.everyone:
        statement = statement.where(_visible_to(audience))
    if query.country:
        statement = statement.where(table.c.country.in_(query.country))
    if query.language:
        statement = statement.where(_having(INDIVIDUAL_LANGUAGES, "language", query.language, table.c.key))
    return statement


def _visible_to(audience: IndividualAudience) -> ColumnElement:
    """IndividualAudience.may_see, as SQL."""
    table = INDIVIDUALS
    return or_(
        table.c.visibility == "public",
        and_(table.c.visibility == "associations", table.c.country.in_(sorted(audience.association_countries))),
        table.c.id == audience.own_id if audience.own_id is not None else false(),
    )
