"""The embedded engine's SELECTs of individuals: visibility, filters and typo-tolerant full-text matches."""

from collections.abc import Mapping

from sqlalchemy import Float, Integer, Select, and_, column, false, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from contracts.search import IndividualQuery
from services.search.db import INDIVIDUAL_TEXT, IndividualLanguage, IndividualRow
from services.search.domain import IndividualAudience
from services.search.text import query_words

INDIVIDUALS = IndividualRow.__table__
INDIVIDUAL_LANGUAGES = IndividualLanguage.__table__


def match_expression(query_text: str, typo_variants: Mapping[str, list[str]] | None = None) -> str | None:
    """Every word must appear, each as a prefix or as one of its typo variants.

    Quoting keeps FTS5 syntax out of people's words.
    """
    clauses = []
    for term in query_words(query_text):
        alternatives = [f'"{term}"*'] + [f'"{variant}"' for variant in (typo_variants or {}).get(term, [])]
        clauses.append(alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})")
    return " ".join(clauses) or None


def full_text_matches(expression: str):
    """(key, rank) of the individuals matching; a lower rank is a better match.

    Materialized, so that the full-text search runs once per statement: as a plain subquery,
    SQLite may run it again for every row of the table it is joined to.
    """
    return (
        text(
            f"SELECT rowid AS key, bm25({INDIVIDUAL_TEXT}) AS rank FROM {INDIVIDUAL_TEXT}"
            f" WHERE {INDIVIDUAL_TEXT} MATCH :expression"
        )
        .columns(column("key", Integer), column("rank", Float))
        .bindparams(expression=expression)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )


def individual_hits(
    query: IndividualQuery, audience: IndividualAudience, expression: str | None, *, generation: int
) -> Select:
    """The individuals of `generation` (the live one) matching the query that the audience may see."""
    table = INDIVIDUALS
    rank = literal(0.0, Float)
    statement = select(table.c.key, table.c.id, table.c.sort_name, table.c.document)
    if expression is not None:
        matches = full_text_matches(expression)
        statement = statement.join(matches, matches.c.key == table.c.key)
        rank = matches.c.rank
    statement = statement.add_columns(rank.label("rank")).where(
        table.c.generation == generation, table.c.visibility.is_not(None)
    )
    if not audience.everyone:
        statement = statement.where(_visible_to(audience))
    if query.country:
        statement = statement.where(table.c.country.in_(query.country))
    if query.language:
        languages = INDIVIDUAL_LANGUAGES
        statement = statement.where(
            table.c.key.in_(select(languages.c.key).where(languages.c.language.in_(query.language)))
        )
    return statement


def _visible_to(audience: IndividualAudience) -> ColumnElement:
    """IndividualAudience.may_see, as SQL."""
    table = INDIVIDUALS
    return or_(
        table.c.visibility == "public",
        and_(table.c.visibility == "associations", table.c.country.in_(sorted(audience.association_countries))),
        table.c.id == audience.own_id if audience.own_id is not None else false(),
    )
