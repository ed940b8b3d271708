"""The embedded engine's typo vocabulary keeps no word of a person who was removed or renamed, unless another person
has it too (the Elasticsearch engine keeps no vocabulary of its own)."""

import shutil

import pytest
from sqlalchemy import select

from services.search.db import VocabularyEntry
from services.search.embedded.engine import EmbeddedEngine
from tests.integration.search_contract.documents import individual


@pytest.fixture
def embedded(migrated_search_database, tmp_path, clock):
    path = tmp_path / "search.sqlite3"
    shutil.copy(migrated_search_database, path)
    engine = EmbeddedEngine(f"sqlite:///{path}", clock=clock)
    yield engine
    engine.close()


def vocabulary(engine) -> set[str]:
    with engine.unit_of_work() as work:
        session = work.index.individuals.session
        return set(session.scalars(select(VocabularyEntry.term).where(VocabularyEntry.variant == VocabularyEntry.term)))


def test_a_removed_persons_words_leave_the_vocabulary_and_shared_words_stay(embedded):
    removed = individual("Hmangaihzuali Khiangte", city="Aizawl")
    staying = individual("Lalremruati Khiangte", city="Aizawl")
    with embedded.unit_of_work() as work:
        work.index.put_individual(removed, version=1)
        work.index.put_individual(staying, version=1)
    assert {"hmangaihzuali", "khiangte", "lalremruati", "aizawl"} <= vocabulary(embedded)

    with embedded.unit_of_work() as work:
        work.index.remove_individual(removed.id, version=2)

    assert "hmangaihzuali" not in vocabulary(embedded)
    assert {"khiangte", "lalremruati", "aizawl"} <= vocabulary(embedded)


def test_a_renamed_persons_old_name_leaves_the_vocabulary(embedded):
    person = individual("Zothanpuii Sailo", city="Aizawl")
    with embedded.unit_of_work() as work:
        work.index.put_individual(person, version=1)
        work.index.put_individual(person.model_copy(update={"name": "Zothanpuii Hnamte"}), version=2)

    assert "sailo" not in vocabulary(embedded)
    assert {"zothanpuii", "hnamte", "aizawl"} <= vocabulary(embedded)
