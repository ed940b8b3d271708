"""The bodies sent to Elasticsearch for each search; pure functions, so unit tests can pin them exactly.

The semantics are the embedded engine's: every typed word must match, as the beginning of an
indexed word or, for words of five letters or more, as a word one edit away; hits come in the
tiers of domain.py (`dis_max` over one `constant_score` query per tier, so a hit's score is its
best tier's number and nothing else); ties are broken by distance when a point is given, then by
name, then id, so that pages never overlap or skip.
"""

from datetime import datetime

from contracts.associations import CATEGORIES
from contracts.search import AssociationQuery, IndividualQuery, SuggestQuery
from services.search.domain import ASSOCIATION_TIERS, INDIVIDUAL_TIERS, SUGGESTED_FIELDS, IndividualAudience
from services.search.elastic.sources import ASSOCIATION_EXTRAS, INDIVIDUAL_EXTRAS
from services.search.text import query_words, tolerates_typo

# Enough buckets for every country and every language in use; a facet must count every hit.
FACET_SIZES = {"country": 300, "language": 1000, "category": len(CATEGORIES)}
FACET_FIELDS = {"country": "country", "language": "languages", "category": "categories"}
BY_NAME = [{"sort_name": "asc"}, {"id": "asc"}]


def word_clauses(words: list[str], fields: tuple[str, ...], *, typos: bool = True) -> list[dict]:
    """One clause per typed word; all must match. Elasticsearch cuts a typed prefix to LONGEST_PREFIX letters."""
    clauses = []
    for word in words:
        as_prefix = {"multi_match": {"query": word, "fields": [f"words.{field}.prefix" for field in fields]}}
        if not (typos and tolerates_typo(word)):
            clauses.append(as_prefix)
            continue
        with_typo = {
            "multi_match": {
                "query": word,
                "fields": [f"words.{field}" for field in fields],
                "fuzziness": 1,
                "prefix_length": 0,
            }
        }
        clauses.append({"bool": {"should": [as_prefix, with_typo], "minimum_should_match": 1}})
    return clauses


def in_tiers(text: str, tiers: tuple[tuple[str, ...], ...]) -> list[dict]:
    """What `must` holds: every typed word in the widest tier's fields, each hit scored by its best tier (the first
    tier scores highest); nothing when no word is typed."""
    words = query_words(text)
    if not words:
        return []
    scored = [
        {"constant_score": {"filter": {"bool": {"filter": word_clauses(words, fields)}}, "boost": len(tiers) - rank}}
        for rank, fields in enumerate(tiers)
    ]
    return [{"dis_max": {"queries": scored}}]


def public_at(now: datetime) -> list[dict]:
    """Verified associations whose verification is not due by `now` (AssociationDocument.lapsed)."""
    not_due = {
        "bool": {
            "should": [
                {"bool": {"must_not": {"exists": {"field": "verification_due_at"}}}},
                {"range": {"verification_due_at": {"gt": now.isoformat()}}},
            ],
            "minimum_should_match": 1,
        }
    }
    return [{"term": {"public": True}}, not_due]


def association_filters(query: AssociationQuery, *, public_only: bool, now: datetime) -> list[dict]:
    filters = public_at(now) if public_only else []
    terms = {
        "status": query.status,
        "country": query.country,
        "languages": query.language,
        "categories": query.category,
    }
    filters += [{"terms": {field: values}} for field, values in terms.items() if values]
    if query.near is not None and query.radius_km is not None:
        filters.append(
            {
                "geo_distance": {
                    "distance": f"{query.radius_km}km",
                    "distance_type": "arc",
                    "location": {"lat": query.near.lat, "lon": query.near.lon},
                }
            }
        )
    return filters


def association_sort(query: AssociationQuery) -> list:
    nearest_first = []
    if query.near is not None:
        nearest_first = [
            {
                "_geo_distance": {
                    "location": {"lat": query.near.lat, "lon": query.near.lon},
                    "order": "asc",
                    "unit": "km",
                    "distance_type": "arc",
                }
            }
        ]
    if query.sort == "distance":
        return nearest_first + BY_NAME
    if query.sort == "name":
        return BY_NAME
    if query.sort == "newest":
        return [{"registered_at": "desc"}, {"id": "asc"}]
    return (["_score"] if query_words(query.q) else []) + nearest_first + BY_NAME


def association_search(query: AssociationQuery, *, public_only: bool, now: datetime, facets: bool = True) -> dict:
    """Keyword arguments of `Elasticsearch.search` for one page of associations and the facets of all hits."""
    body = {
        "query": {
            "bool": {
                "must": in_tiers(query.q, ASSOCIATION_TIERS),
                "filter": association_filters(query, public_only=public_only, now=now),
            }
        },
        "sort": association_sort(query),
        "from_": (query.page - 1) * query.size,
        "size": query.size,
        "track_total_hits": True,
        "source_excludes": ASSOCIATION_EXTRAS,
    }
    if facets:
        body["aggs"] = {
            name: {"terms": {"field": FACET_FIELDS[name], "size": size}} for name, size in FACET_SIZES.items()
        }
    return body


def suggest_search(query: SuggestQuery, *, now: datetime) -> dict:
    """Verified associations whose names begin with every typed word, by name."""
    return {
        "query": {
            "bool": {
                "filter": [
                    *word_clauses(query_words(query.q), SUGGESTED_FIELDS, typos=False),
                    *public_at(now),
                ]
            }
        },
        "sort": BY_NAME,
        "size": query.size,
        "source_excludes": ASSOCIATION_EXTRAS,
    }


def individual_filters(query: IndividualQuery, audience: IndividualAudience) -> list[dict]:
    filters: list[dict] = [{"term": {"removed": False}}]
    if not audience.everyone:
        filters.append({"bool": {"should": _visible_to(audience), "minimum_should_match": 1}})
    if query.country:
        filters.append({"terms": {"country": query.country}})
    if query.language:
        filters.append({"terms": {"languages": query.language}})
    return filters


def _visible_to(audience: IndividualAudience) -> list[dict]:
    """IndividualAudience.may_see, as a query."""
    visible = [{"term": {"visibility": "public"}}]
    if audience.association_countries:
        countries = sorted(audience.association_countries)
        visible.append(
            {"bool": {"filter": [{"term": {"visibility": "associations"}}, {"terms": {"country": countries}}]}}
        )
    if audience.own_id is not None:
        visible.append({"term": {"id": str(audience.own_id)}})
    return visible


def individual_search(query: IndividualQuery, audience: IndividualAudience) -> dict:
    return {
        "query": {
            "bool": {
                "must": in_tiers(query.q, INDIVIDUAL_TIERS),
                "filter": individual_filters(query, audience),
            }
        },
        "sort": (["_score"] if query_words(query.q) else []) + BY_NAME,
        "from_": (query.page - 1) * query.size,
        "size": query.size,
        "track_total_hits": True,
        "source_excludes": INDIVIDUAL_EXTRAS,
    }
