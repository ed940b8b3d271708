"""An import chunk's look-alikes, found with a few queries for the whole chunk (imports/look_alikes.py), are the
candidates that the stored index gives when the same rows are looked up and added one at a time: on SQLite and
PostgreSQL, with stored look-alikes and look-alikes within the chunk, a key too broad to read, more near names
than the prefilter keeps, and two countries."""

import random

import pytest

from services.registry.associations.duplicates import find_candidates
from services.registry.associations.name_index import StoredNameIndex, association_names
from services.registry.imports.look_alikes import NewAssociation, look_alikes
from tests.integration.test_registry_associations import association_record
from tests.registry_fakes import DatabaseRegistry

STORED = [
    ("AE", "Mizo Welfare Association Dubai", ["MWA Dubai"]),
    ("AE", "Dubai Mizo Kohhran", []),
    ("AE", "Young Mizo Association Dubai", ["YMA Dubai"]),
    ("SG", "Mizo Welfare Association Singapore", ["MWA Singapore"]),
    *(("AE", f"Mizo Fellowship Dubai {number}", []) for number in range(40)),  # "w:dub" and "w:fel" are broad
    *(("AE", f"Zoram Thalai {word} Dubai", []) for word in ("Hmar", "Chhim", "Khawthlang", "Kawn", "Sawn")),
]
CHUNK = [
    ("AE", "Mizo Welfare Assocation Dubai", []),  # a typo of a stored one
    ("AE", "MWA Dubai", ["Mizo Welfare Dubai"]),  # and again, and like the row before it
    ("AE", "Mizo Fellowship Dubai", []),  # only broad keys
    ("AE", "Kohhran Dubai", []),
    *(("AE", f"Zoram Thalai {word} Dubai", []) for word in ("Hmar", "Chhak", "Kawn", "Sawn", "Lai", "Mara", "Bawk")),
    ("SG", "MWA Singapore", []),
    ("SG", "Mizo Welfare Association Dubai", []),  # a name of the other country
    ("AE", "Sharjah Kohhran", ["Dubai Mizo Kohhran"]),
]


@pytest.fixture
def registry(database_url):
    registry = DatabaseRegistry(database_url)
    yield registry
    registry.close()


def record(country: str, name: str, alternate_names: list[str]):
    city = {"AE": "Dubai", "SG": "Singapore"}[country]
    return association_record("pending", country=country, city=city, name=name, alternate_names=alternate_names)


def test_a_chunks_look_alikes_are_those_found_one_row_at_a_time(registry):
    with registry() as work:
        for stored in STORED:
            work.associations.add(record(*stored))
    chunk = [record(*row) for row in CHUNK]
    random.Random(3).shuffle(chunk)

    with registry() as work:
        one_at_a_time = {}
        for association in chunk:
            index = StoredNameIndex(work.session, association.country)
            one_at_a_time[association.id] = find_candidates(index, association_names(association))
            work.associations.add(association)
        work.session.rollback()

    with registry() as work:
        new = [NewAssociation(a.id, a.country, association_names(a)) for a in chunk]
        found = look_alikes(work.associations, new)

    assert found == one_at_a_time
    assert sum(map(len, found.values())) >= len(CHUNK)  # the chunk is full of look-alikes
