"""`diasporahub search reindex` and `verify [--repair]` against a registry that answers over the real broker."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from nameko.rpc import rpc

from contracts.associations import AssociationV1
from contracts.search import AssociationQuery
from servicekit.migrations import upgrade
from services.search import maintenance
from services.search.documents import AssociationDocument
from services.search.embedded import EmbeddedEngine


class RegistryExport:
    """The registry's `associations_after` as search relies on it: AssociationV1 dicts in id order, page by page."""

    name = "registry"
    associations: list[dict] = []

    @rpc
    def associations_after(self, after_id=None, limit=500):
        ordered = sorted(RegistryExport.associations, key=lambda association: association["id"])
        return [association for association in ordered if after_id is None or association["id"] > after_id][:limit]


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


@pytest.fixture
def registry(nameko_config, container_factory):
    """Fill `registry.extend(...)` with the associations the registry holds."""
    RegistryExport.associations = []
    container_factory(RegistryExport, nameko_config).start()
    held: list[AssociationV1] = []

    class Registry:
        def extend(self, associations: list[AssociationV1]) -> None:
            held.extend(associations)
            RegistryExport.associations = [each.model_dump(mode="json") for each in held]

    return Registry()


def index(engine, *associations: AssociationV1, version: int | None = None) -> None:
    with engine.unit_of_work() as work:
        for each in associations:
            work.index.put_association(AssociationDocument.of(each), version=version or each.version)


def stored(engine) -> dict:
    with engine.unit_of_work() as work:
        return {document.id: (document.name, version) for document, version in work.index.stored_associations()}


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
