"""The registry's read-only units of work, on SQLite and PostgreSQL: the Database provider gives them to the
entrypoints marked `reads_only` (get_association), and through them an association is seen by whom it was before:
a pending one by its admins and the Cell only, a verified one by anyone. They keep nothing written in them."""

from types import SimpleNamespace
from uuid import UUID

import pytest
from nameko.containers import ServiceContainer
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from contracts.errors import NotFound, Unavailable
from servicekit.database import Database, ReadOnlyUnitOfWork, UnitOfWork, create_database_engine, reads_only
from servicekit.rpc_writes import rpc_write
from servicekit.settings import BusSettings
from services.registry.associations.repository import AssociationRepository
from services.registry.db import AssociationRecord, Base
from services.registry.service import RegistryService
from services.registry.settings import RegistrySettings
from tests.integration.test_registry_associations import MWA
from tests.registry_fakes import DatabaseRegistry, registry_worker


def set_up(service_cls) -> Database:
    """The service's Database provider, bound to its container and set up as at a start (nothing started)."""
    container = ServiceContainer(service_cls, config={"AMQP_URI": BusSettings().amqp_uri})
    provider = next(dependency for dependency in container.dependencies if isinstance(dependency, Database))
    provider.setup()
    return provider


def worker_of(method_name: str) -> SimpleNamespace:
    return SimpleNamespace(entrypoint=SimpleNamespace(method_name=method_name), call_id_stack=["test.1"])


@pytest.fixture
def registry(database_url, monkeypatch):
    registry = DatabaseRegistry(database_url)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    yield registry
    registry.close()


@pytest.fixture
def provider(registry):
    provider = set_up(RegistryService)
    yield provider
    provider.engine.dispose()


def test_get_association_gets_read_only_units_of_work_and_the_writes_the_writers(provider):
    for reader in ("get_association", "memberships_after"):
        assert isinstance(provider.get_dependency(worker_of(reader))(), ReadOnlyUnitOfWork)
    for writer in ("register_association", "update_association", "association_history", "prune_sent_events"):
        assert isinstance(provider.get_dependency(worker_of(writer))(), UnitOfWork)


def test_through_read_only_units_an_association_is_seen_by_whom_it_was_before(registry, provider):
    writer = registry_worker(registry)
    admin, cell = registry.sign_in("admin@mwa-dubai.example.org"), registry.sign_in("cell@example.org", cell_staff=True)
    stranger = registry.sign_in("someone@example.org")
    pending = writer.register_association(admin.token, MWA)
    reader = registry_worker(registry)
    reader.unit_of_work = provider.get_dependency(worker_of("get_association"))

    assert reader.get_association(admin.token, pending["id"]) == pending
    assert reader.get_association(cell.token, pending["id"]) == pending
    for token in (None, stranger.token):
        with pytest.raises(NotFound):
            reader.get_association(token, pending["id"])

    verified = writer.decide_association(cell.token, pending["id"], {"decision": "verify"})
    assert reader.get_association(None, pending["id"]) == verified == writer.get_association(None, pending["id"])
    assert verified["website"] == "https://mwa-dubai.example.org/"


def test_what_is_written_in_a_read_only_unit_of_work_is_not_kept(registry, provider):
    association = registry_worker(registry).register_association(registry.sign_in().token, MWA)
    association_id = UUID(association["id"])

    with provider.get_dependency(worker_of("get_association"))() as work:
        work.session.execute(delete(AssociationRecord).where(AssociationRecord.id == association_id))
        assert work.associations.get(association_id) is None

    with registry() as work:
        assert work.associations.get(association_id).model_dump(mode="json") == association


def test_a_database_out_of_reach_is_unavailable_in_a_read_only_unit_of_work():
    engine = create_database_engine("postgresql+psycopg2://postgres@127.0.0.1:1/registry")
    units = ReadOnlyUnitOfWork(sessionmaker(engine), repositories={"associations": AssociationRepository})
    try:
        with pytest.raises(Unavailable), units as work:
            work.associations.get(UUID("5f0c1e2a-4b7d-4f51-9a51-3c0e8b0d2a11"))
    finally:
        engine.dispose()


class WritesMarkedReadOnly:
    name = "registry"
    unit_of_work = Database(RegistrySettings, Base.metadata, repositories={})

    @rpc_write()
    @reads_only
    def register(self, name: str) -> str:
        return name


def test_an_rpc_write_marked_read_only_is_refused_at_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    with pytest.raises(RuntimeError, match=r"\['register'\] cannot read only"):
        set_up(WritesMarkedReadOnly)
