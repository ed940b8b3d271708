"""The duplicate finder's index follows every change of an association's names, country and state: one suite run
on the in-memory fake, SQLite and PostgreSQL (where the index is the registry's `duplicate_names` and
`duplicate_keys` tables, written with the change)."""

import pytest
from alembic import command
from sqlalchemy import insert
from sqlalchemy.orm import Session

from servicekit.database import create_database_engine
from servicekit.migrations import alembic_config, upgrade
from services.registry.associations.duplicates import DuplicateFinder, NamedAssociation, find_candidates
from services.registry.associations.name_index import StoredNameIndex
from services.registry.db import AssociationRecord
from tests.integration.test_registry_associations import MWA, association_record
from tests.registry_fakes import DatabaseRegistry, InMemoryRegistry, RegistrySuite

LOOK_ALIKE = MWA | {"name": "MWA Dubai", "alternate_names": []}


class DuplicateIndexSuite(RegistrySuite):
    def flagged(self, service, cell, association) -> list[str]:
        items = {item["id"]: item for item in service.review_associations(cell.token, {"size": 100})["items"]}
        return [candidate["id"] for candidate in items[association["id"]]["possible_duplicates"]]

    def test_a_renamed_association_is_found_by_its_new_name_not_its_old_one(self, service, admin, cell):
        renamed = service.register_association(admin.token, MWA | {"name": "Sharjah Kohhran", "alternate_names": []})
        service.update_association(admin.token, renamed["id"], {"name": MWA["name"]})

        look_alike = service.register_association(admin.token, LOOK_ALIKE)
        old_name = service.register_association(admin.token, MWA | {"name": "Sharjah Kohhran", "alternate_names": []})

        assert self.flagged(service, cell, look_alike) == [renamed["id"]]
        assert self.flagged(service, cell, old_name) == []

    def test_an_association_that_moves_is_looked_for_in_its_new_country(self, service, admin, cell):
        moved = service.register_association(admin.token, MWA)
        service.update_association(admin.token, moved["id"], {"country": "SG", "city": "Singapore"})

        in_old_country = service.register_association(admin.token, LOOK_ALIKE)
        in_new_country = service.register_association(admin.token, LOOK_ALIKE | {"country": "SG", "city": "Singapore"})

        assert self.flagged(service, cell, in_old_country) == []
        assert self.flagged(service, cell, in_new_country) == [moved["id"]]

    def test_merged_and_dissolved_associations_are_nobodys_duplicate(self, service, admin, cell):
        kept = service.register_association(admin.token, MWA | {"name": "Mizo Kohhran Dubai", "alternate_names": []})
        merged = service.register_association(admin.token, MWA)
        dissolved = service.register_association(admin.token, LOOK_ALIKE)
        service.merge_association(cell.token, merged["id"], kept["id"])
        service.decide_association(admin.token, dissolved["id"], {"decision": "dissolve", "reason": "closed"})

        newcomer = service.register_association(admin.token, MWA | {"email": "new@example.org"})

        assert self.flagged(service, cell, newcomer) == []


class TestInMemory(DuplicateIndexSuite):
    @pytest.fixture
    def registry(self):
        return InMemoryRegistry()


class TestOnDatabases(DuplicateIndexSuite):
    @pytest.fixture
    def registry(self, database_url):
        registry = DatabaseRegistry(database_url)
        yield registry
        registry.close()

    def test_the_stored_index_finds_what_the_finder_in_memory_finds(self, registry):
        names = ["Mizo Welfare Association Dubai", "MWA Dubai", "Dubai Mizo Kohhran", "Young Mizo Association Dubai"]
        names += [f"Mizo Fellowship Dubai {number}" for number in range(40)]  # a broad key, passed over
        in_memory = DuplicateFinder()
        with registry() as work:
            for name in names:
                association = association_record("pending", name=name, alternate_names=[])
                work.associations.add(association)
                in_memory.add(NamedAssociation(association.id, (name,)))

        with registry() as work:
            stored = StoredNameIndex(work.session, "AE")
            for query in ("MWA", "Mizo Welfare Assocation Dubai", "YMA Dubai", "Mizo Fellowship Dubai 7", "Kohhran"):
                assert find_candidates(stored, [query]) == in_memory.candidates([query])

    def test_counting_keys_only_up_to_a_bound_reads_what_counting_them_in_full_reads(self, registry):
        names = [f"Aibawk Zawlnuam {number}" for number in range(40)]  # w:aib held by 40
        names += [f"Zawlnuam Tlangnuam {number}" for number in range(30)]  # w:tla by 30, w:zaw by 70
        names += ["Zawlnuam Kohhran"]  # w:koh by 1
        with registry() as work:
            for name in names:
                work.associations.add(association_record("pending", name=name, alternate_names=[]))

        with registry() as work:
            bounded, in_full = ReadKeys(work.session, "AE"), ReadKeys(work.session, "AE", counting_in_full=True)
            assert bounded.key_sizes({"w:zaw", "w:tla", "w:nobody"}, up_to=26) == {"w:zaw": 26, "w:tla": 26}
            assert bounded.key_sizes({"w:zaw", "w:tla", "w:nobody"}) == {"w:zaw": 71, "w:tla": 30}
            # Only broad keys (the smallest is read, not the first in order), a telling one beside broad ones.
            for query, read in (("Aibawk Tlangnuam", ["w:tla"]), ("Kohhran Zawlnuam", ["p:koh+zaw", "w:koh"])):
                assert find_candidates(bounded, [query]) == find_candidates(in_full, [query])
                assert bounded.read == in_full.read == read


class ReadKeys(StoredNameIndex):
    """The stored index, remembering which keys a look-up read; with `counting_in_full`, it ignores `up_to`."""

    def __init__(self, session: Session, country: str, *, counting_in_full: bool = False):
        super().__init__(session, country)
        self.counting_in_full = counting_in_full
        self.read: list[str] = []

    def key_sizes(self, keys: set[str], *, up_to: int | None = None) -> dict[str, int]:
        return super().key_sizes(keys, up_to=None if self.counting_in_full else up_to)

    def names_holding(self, keys: list[str]) -> dict:
        self.read = keys
        return super().names_holding(keys)


def test_the_migration_indexes_the_open_associations_registered_before_it(database_url):
    command.upgrade(alembic_config("services.registry", database_url), "0003")
    registered, dissolved = association_record("pending"), association_record("dissolved")
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            for association in (registered, dissolved):
                connection.execute(insert(AssociationRecord).values(
                    id=association.id, name=association.name, country=association.country, status=association.status,
                    version=1, registered_at=association.registered_at, updated_at=association.updated_at,
                    document=association.model_dump(mode="json")))  # fmt: skip

        upgrade("services.registry", database_url)

        with Session(engine) as session:
            [candidate] = find_candidates(StoredNameIndex(session, "AE"), ["MWA Dubai"])
        assert (candidate.id, candidate.score) == (registered.id, 100)
    finally:
        engine.dispose()
