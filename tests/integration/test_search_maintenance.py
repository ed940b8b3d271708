"""`diasporahub search reindex` and `verify [--repair]` against a registry that answers over the real broker,
for associations and individuals alike."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.accounts import Principal
from contracts.associations import AssociationV1
from contracts.individuals import IndividualProfileV1, MembershipV1
from contracts.search import AssociationQuery, IndividualQuery
from servicekit.migrations import upgrade
from servicekit.rpc import rpc
from services.search import maintenance
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import IndividualAudience
from services.search.embedded.engine import EmbeddedEngine

CELL = IndividualAudience.of(
    Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
)


class RegistryExport:
    """The registry's `associations_after` and `individuals_after` as search relies on them: AssociationV1 dicts,
    and `{"individual": IndividualProfileV1, "version": …}` dicts, in id order, page by page; and its
    `memberships_after` (`{"membership": MembershipV1, "version": …}`), as messaging's directory check reads it."""

    name = "registry"
    associations: list[dict] = []
    individuals: list[dict] = []
    memberships: list[dict] = []

    @rpc
    def associations_after(self, after_id=None, limit=500):
        ordered = sorted(RegistryExport.associations, key=lambda association: association["id"])
        return [association for association in ordered if after_id is None or association["id"] > after_id][:limit]

    @rpc
    def individuals_after(self, after_id=None, limit=500):
        ordered = sorted(RegistryExport.individuals, key=lambda item: item["individual"]["id"])
        return [item for item in ordered if after_id is None or item["individual"]["id"] > after_id][:limit]

    @rpc
    def memberships_after(self, after_id=None, limit=500):
        ordered = sorted(RegistryExport.memberships, key=lambda item: item["membership"]["id"])
        return [item for item in ordered if after_id is None or item["membership"]["id"] > after_id][:limit]


def association(name: str, *, version: int = 1, **fields) -> AssociationV1:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return AssociationV1(
        **{
            "id": uuid4(),
            "name": name,
            "country": "IN",
            "city": "Delhi",
            "languages": ["lus"],
            "email": "secretary@example.org",
            "status": "verified",
            "version": version,
            "registered_at": now,
            "updated_at": now,
        }
        | fields
    )


@pytest.fixture
def engine(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    upgrade("services.search", url)
    monkeypatch.setenv("SEARCH_DATABASE_URL", url)
    monkeypatch.delenv("SEARCH_ELASTICSEARCH_URL", raising=False)
    engine = EmbeddedEngine(url)
    yield engine
    engine.close()


def individual(name: str, *, version: int = 1, **fields) -> tuple[IndividualProfileV1, int]:
    profile = IndividualProfileV1(
        **{"id": uuid4(), "name": name, "country": "IN", "city": "Delhi", "languages": ["lus"], "visibility": "public"}
        | fields
    )
    return profile, version


@pytest.fixture
def registry(nameko_config, container_factory):
    """Fill `registry.extend(...)` with the associations, `registry.extend_individuals(...)` with the individuals
    (each a profile and its version), `registry.extend_memberships(...)` with the memberships (each with its
    version) the registry holds."""
    RegistryExport.associations, RegistryExport.individuals, RegistryExport.memberships = [], [], []
    container_factory(RegistryExport, nameko_config).start()
    held: list[AssociationV1] = []
    held_individuals: list[tuple[IndividualProfileV1, int]] = []

    class Registry:
        def extend(self, associations: list[AssociationV1]) -> None:
            held.extend(associations)
            RegistryExport.associations = [each.model_dump(mode="json") for each in held]

        def extend_individuals(self, individuals: list[tuple[IndividualProfileV1, int]]) -> None:
            held_individuals.extend(individuals)
            RegistryExport.individuals = [
                {"individual": profile.model_dump(mode="json"), "version": version}
                for profile, version in held_individuals
            ]

        def extend_memberships(self, memberships: list[tuple[MembershipV1, int]]) -> None:
            RegistryExport.memberships += [
                {"membership": membership.model_dump(mode="json"), "version": version}
                for membership, version in memberships
            ]

    return Registry()


def index(engine, *associations: AssociationV1, version: int | None = None) -> None:
    with engine.unit_of_work() as work:
        for each in associations:
            work.index.put_association(AssociationDocument.of(each), version=version or each.version)


def stored(engine) -> dict:
    with engine.unit_of_work() as work:
        return {document.id: (document.name, version) for document, version in work.index.stored_associations()}


def index_individuals(engine, *individuals: tuple[IndividualProfileV1, int], version: int | None = None) -> None:
    with engine.unit_of_work() as work:
        for profile, held_version in individuals:
            work.index.put_individual(IndividualDocument.of(profile), version=version or held_version)


def stored_individuals(engine) -> dict:
    with engine.unit_of_work() as work:
        return {document.id: (document.name, version) for document, version in work.index.stored_individuals()}


def found_individuals(engine, **query) -> list[str]:
    with engine.unit_of_work() as work:
        return [hit.name for hit in work.index.search_individuals(IndividualQuery(size=100, **query), CELL).items]


def total(engine) -> int:
    with engine.unit_of_work() as work:
        return work.index.search_associations(AssociationQuery(), public_only=False).total


def test_reindex_reads_every_page_of_the_registry(engine, registry, capsys):
    held = [association(f"Association {number}") for number in range(1234)]
    registry.extend(held)
    index(engine, association("Not in the registry"))

    assert maintenance.main(["reindex"]) == 0

    assert "indexed 1234 associations" in capsys.readouterr().out
    assert total(engine) == 1234
    assert stored(engine) == {each.id: (each.name, 1) for each in held}


def test_verify_reports_every_difference_and_repair_puts_them_right(engine, registry, capsys):
    stale, differs, ahead, missing, same = (
        association(name) for name in ("Stale", "Differs", "Ahead", "Missing", "Same")
    )
    registry.extend([stale.model_copy(update={"version": 2}), differs, ahead, missing, same])
    extra = association("Extra")
    index(engine, stale, same, extra)
    index(engine, differs.model_copy(update={"name": "Differs in the index"}))
    index(engine, ahead, version=5)

    assert maintenance.main(["verify"]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines[:-1]) == sorted(
        [
            f"association {stale.id} is at version 1 in the index, 2 in the registry",
            f"association {differs.id} differs between the index and the registry at the same version 1",
            f"association {ahead.id} is at version 5 in the index, only 1 in the registry",
            f"association {missing.id} is in the registry (version 1) but not in the index",
            f"association {extra.id} is in the index (version 1) but not in the registry",
        ]
    )
    assert lines[-1] == "5 differences between the search index and the registry"

    assert maintenance.main(["verify", "--repair"]) == 0
    assert maintenance.main(["verify"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 differences between the search index and the registry"
    assert stored(engine)[ahead.id] == ("Ahead", 1)


def test_repair_without_a_rebuild_adds_the_missing_updates_the_stale_and_removes_the_extra(engine, registry, capsys):
    stale, missing, same, extra = (association(name) for name in ("Stale", "Missing", "Same", "Extra"))
    registry.extend([stale.model_copy(update={"version": 3, "name": "Stale, renamed"}), missing, same])
    index(engine, stale, same, extra)

    assert maintenance.main(["verify", "--repair"]) == 0

    assert stored(engine) == {stale.id: ("Stale, renamed", 3), missing.id: ("Missing", 1), same.id: ("Same", 1)}
    assert maintenance.main(["verify"]) == 0


def test_a_registry_that_does_not_answer_is_said_plainly(engine, bus, capsys, monkeypatch):
    monkeypatch.setenv("DIASPORAHUB_RPC_TIMEOUT_SECONDS", "0.5")

    assert maintenance.main(["verify"]) == 2

    # "is not running" or "did not answer within 0.5 s", depending on whether its queue is still there.
    assert "diasporahub search: the registry service " in capsys.readouterr().err


def test_reindex_reads_every_page_of_individuals_too(engine, registry, capsys):
    held = [individual(f"Person {number}", version=number % 3 + 1) for number in range(1234)]
    registry.extend_individuals(held)
    registry.extend([association("Kept")])
    index_individuals(engine, individual("Not in the registry"))

    assert maintenance.main(["reindex"]) == 0

    assert "indexed 1 associations and 1234 individuals" in capsys.readouterr().out
    assert stored_individuals(engine) == {profile.id: (profile.name, version) for profile, version in held}
    assert found_individuals(engine, q="registry") == []
    assert found_individuals(engine, q="person 1233") == ["Person 1233"]


def test_verify_reports_every_difference_of_individuals_and_repair_puts_them_right(engine, registry, capsys):
    stale, differs, ahead, missing, same = (
        individual(name) for name in ("Stale", "Differs", "Ahead", "Missing", "Same")
    )
    renamed_stale = (stale[0].model_copy(update={"name": "Stale, renamed"}), 2)
    registry.extend_individuals([renamed_stale, differs, ahead, missing, same])
    extra = individual("Extra")
    index_individuals(engine, stale, same, extra)
    index_individuals(engine, (differs[0].model_copy(update={"city": "Aizawl"}), 1))
    index_individuals(engine, ahead, version=5)

    assert maintenance.main(["verify"]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines[:-1]) == sorted(
        [
            f"individual {stale[0].id} is at version 1 in the index, 2 in the registry",
            f"individual {differs[0].id} differs between the index and the registry at the same version 1",
            f"individual {ahead[0].id} is at version 5 in the index, only 1 in the registry",
            f"individual {missing[0].id} is in the registry (version 1) but not in the index",
            f"individual {extra[0].id} is in the index (version 1) but not in the registry",
        ]
    )
    assert lines[-1] == "5 differences between the search index and the registry"

    assert maintenance.main(["verify", "--repair"]) == 0
    assert maintenance.main(["verify"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 differences between the search index and the registry"
    assert stored_individuals(engine)[ahead[0].id] == ("Ahead", 1)
    assert found_individuals(engine) == ["Ahead", "Differs", "Missing", "Same", "Stale, renamed"]


def test_repair_without_a_rebuild_adds_missing_and_stale_individuals_and_removes_the_extra_for_good(
    engine, registry, capsys
):
    stale, missing, same, extra = (individual(name) for name in ("Stale", "Missing", "Same", "Extra"))
    registry.extend_individuals([(stale[0].model_copy(update={"name": "Stale, renamed"}), 3), missing, same])
    index_individuals(engine, stale, same, extra)

    assert maintenance.main(["verify", "--repair"]) == 0

    assert stored_individuals(engine) == {
        stale[0].id: ("Stale, renamed", 3),
        missing[0].id: ("Missing", 1),
        same[0].id: ("Same", 1),
    }
    assert found_individuals(engine, q="extra") == []
    index_individuals(engine, extra)  # a late copy of the event that indexed them cannot bring them back
    assert found_individuals(engine, q="extra") == []
    assert maintenance.main(["verify"]) == 0


def test_differences_of_both_kinds_are_reported_together_and_each_kind_repaired_on_its_own(engine, registry, capsys):
    person, club = individual("Person"), association("Club")
    registry.extend_individuals([person])
    registry.extend([club])
    index(engine, club, version=4)  # ahead: the associations are rebuilt
    index_individuals(engine, person, individual("Extra person"))  # extra: the individual is removed, no rebuild

    assert maintenance.main(["verify", "--repair"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["2 differences between the search index and the registry", "repaired"]
    assert stored(engine) == {club.id: ("Club", 1)}
    assert stored_individuals(engine) == {person[0].id: ("Person", 1)}
    assert maintenance.main(["verify"]) == 0
