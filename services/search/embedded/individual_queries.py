"""The embedded engine's SELECTs of individuals: visibility, filters and typo-tolerant full-text matches.

The full-text table holds the words of services.search.text, separated by spaces, under FTS5's
`ascii` tokenizer (migration 0004), which splits them at spaces only, as Elasticsearch does.
"""

from collections.abc import Mapping

from sqlalchemy import Integer, Select, and_, column, false, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from contracts.search import IndividualQuery
from services.search.db import INDIVIDUAL_TEXT, IndividualLanguage, IndividualRow
from services.search.domain import INDIVIDUAL_TIERS, IndividualAudience
from services.search.text import as_prefix, query_words

INDIVIDUALS = IndividualRow.__table__
INDIVIDUAL_LANGUAGES = IndividualLanguage.__table__


def match_expression(query_text: str, typo_variants: Mapping[str, list[str]] | None = None) -> str | None:
    """Every word must appear, each as a prefix or as one of its typo variants.

    Quoting keeps FTS5 syntax out of people's words; `AND` is written out, because FTS5 refuses an
    implied one before a parenthesis.
    """
    clauses = []
    for term in query_words(query_text):
        alternatives = [f'"{as_prefix(term)}"*'] + [f'"{variant}"' for variant in (typo_variants or {}).get(term, [])]
        clauses.append(alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})")
    return " AND ".join(clauses) or None


def full_text_matches(expression: str):
    """(key, rank) of the individuals matching; the rank is the first of INDIVIDUAL_TIERS whose columns hold
    every typed word.

    Materialized, so that the full-text search runs once per statement: as a plain subquery,
    SQLite may run it again for every row of the table it is joined to.
    """
    narrower_tiers = [f"{{{' '.join(columns)}}} : ({expression})" for columns in INDIVIDUAL_TIERS[:-1]]
    matching = f"SELECT rowid FROM {INDIVIDUAL_TEXT} WHERE {INDIVIDUAL_TEXT} MATCH"
    in_tier = "".join(
        f" WHEN rowid IN ({matching} :tier{number}) THEN {number}" for number in range(len(narrower_tiers))
    )
    return (
        text(
            f"SELECT rowid AS key, CASE{in_tier} ELSE {len(narrower_tiers)} END AS rank"
            f" FROM {INDIVIDUAL_TEXT} WHERE {INDIVIDUAL_TEXT} MATCH :expression"
        )
        .columns(column("key", Integer), column("rank", Integer))
        .bindparams(expression=expression, **{f"tier{number}": tier for number, tier in enumerate(narrower_tiers)})
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )


def individual_hits(
    query: IndividualQuery, audience: IndividualAudience, expression: str | None, *, generation: int
) -> Select:
    """The individuals of `generation` (the live one) matching the query that the audience may see."""
    table = INDIVIDUALS
    rank = literal(0, Integer)
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
