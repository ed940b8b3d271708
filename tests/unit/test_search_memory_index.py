"""The in-memory association index against a plain sort of the same associations, at sizes the contract suite
does not reach: pages read by walking the ordered lists and pages read by sorting the hits agree."""

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from contracts.search import AssociationQuery
from contracts.text import fold
from services.search.documents import AssociationDocument
from services.search.embedded.memory_index import AssociationMemoryIndex
from services.search.geo import great_circle_km

COUNTRIES = ["IN", "SG", "AE", "US", "GB"]
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def documents() -> list[AssociationDocument]:
    generator = random.Random(11)
    return [
        AssociationDocument(
            id=UUID(int=generator.getrandbits(128), version=4),
            name=f"{generator.choice(['Mizo', 'Hmar', 'Ṭhalai', 'Zo'])} {generator.choice(['Pawl', 'Kohhran'])} {n}",
            country=generator.choice(COUNTRIES),
            city="Somewhere",
            languages=generator.sample(["lus", "hmr", "eng"], generator.randint(1, 2)),
            status="verified" if generator.random() < 0.9 else "pending",
            location={"lat": generator.uniform(-60, 60), "lon": generator.uniform(-180, 180)},
            registered_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=generator.randint(0, 10_000)),
        )
        for n in range(3000)
    ]


@pytest.fixture(scope="module")
def index(documents) -> AssociationMemoryIndex:
    index = AssociationMemoryIndex()
    for document in documents:
        index.put(document)
    return index


def expected_ids(documents, query: AssociationQuery, key) -> list[UUID]:
    hits = [
        document
        for document in documents
        if document.public
        and (not query.country or document.country in query.country)
        and (not query.language or set(document.languages) & set(query.language))
    ]
    start = (query.page - 1) * query.size
    return [document.id for document in sorted(hits, key=key)[start : start + query.size]]


def by_name(document):
    return (fold(document.name), str(document.id))


@pytest.mark.parametrize(
    "query",
    [
        AssociationQuery(sort="name"),
        AssociationQuery(sort="name", page=120, size=20),
        AssociationQuery(sort="name", country="SG", language="hmr"),
        AssociationQuery(sort="name", country="SG", language="hmr", page=5, size=7),
        AssociationQuery(sort="newest", country="IN,US", page=3),
    ],
)
def test_pages_match_a_plain_sort(documents, index, query):
    if query.sort == "newest":
        key = lambda document: (-document.registered_at.timestamp(), str(document.id))  # noqa: E731
    else:
        key = by_name
    found = index.search(query, public_only=True, now=NOW)

    assert [hit.id for hit in found.items] == expected_ids(documents, query, key)
    assert found.total == len(
        [
            d
            for d in documents
            if d.public
            and (not query.country or d.country in query.country)
            and (not query.language or set(d.languages) & set(query.language))
        ]
    )


def test_nearest_first_matches_measuring_every_association(documents, index):
    query = AssociationQuery(near="10,170", radius_km=3000, sort="distance", size=50)

    found = index.search(query, public_only=True, now=NOW)

    within = sorted(
        (great_circle_km(10, 170, d.location.lat, d.location.lon), d.id)
        for d in documents
        if d.public and great_circle_km(10, 170, d.location.lat, d.location.lon) <= 3000
    )
    assert found.total == len(within)
    assert [hit.id for hit in found.items] == [association_id for _, association_id in within[:50]]


def test_a_replaced_or_removed_association_leaves_no_trace(documents):
    index = AssociationMemoryIndex()
    first, second = documents[0], documents[1]
    index.put(first)
    index.put(second)

    index.put(first.model_copy(update={"name": "Renamed Pawl", "country": "GB", "status": "verified"}))
    index.remove(second.id)

    found = index.search(AssociationQuery(), public_only=False, now=NOW)
    assert [hit.name for hit in found.items] == ["Renamed Pawl"]
    assert found.facets.country == {"GB": 1}
    assert index.search(AssociationQuery(q=first.name.split()[0]), public_only=False, now=NOW).total == 0
