"""RegistryService entrypoints, with an in-memory unit of work in place of the database."""

from uuid import UUID, uuid4

import pytest
from nameko.testing.services import worker_factory

from contracts.associations import AssociationV1
from contracts.errors import Invalid, NotFound
from contracts.events import AssociationRegisteredV1, EventEnvelope
from services.registry.service import RegistryService


class InMemoryAssociations:
    """The associations repository port: additions become visible to others on commit."""

    def __init__(self, committed: dict[UUID, AssociationV1]):
        self._committed = committed
        self._added: dict[UUID, AssociationV1] = {}

    def add(self, association: AssociationV1) -> None:
        self._added[association.id] = association

    def get(self, association_id: UUID) -> AssociationV1 | None:
        if association_id in self._added:
            return self._added[association_id]
        return self._committed.get(association_id)

    def commit(self) -> None:
        self._committed.update(self._added)
        self._added.clear()


class InMemoryUnitOfWork:
    """Like servicekit.database.UnitOfWork: commits when the block ends normally, else discards."""

    def __init__(self, registry: "InMemoryRegistry"):
        self._registry = registry
        self._events: list[EventEnvelope] = []
        self.associations = InMemoryAssociations(registry.associations)

    def __enter__(self) -> "InMemoryUnitOfWork":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.associations.commit()
            self._registry.committed_events.extend(self._events)

    def add_event(self, raised: EventEnvelope) -> None:
        self._events.append(raised)


class InMemoryRegistry:
    """What the service gets as `unit_of_work`: calling it opens a new unit of work."""

    def __init__(self):
        self.associations: dict[UUID, AssociationV1] = {}
        self.committed_events: list[EventEnvelope] = []

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


DRAFT = {
    "name": "Mizo Welfare Association Singapore",
    "country": "sg",
    "city": "Singapore",
    "languages": ["lus", "en"],
    "email": "hello@mizo.sg",
    "description": "Mizo families in Singapore.",
}


@pytest.fixture
def registry() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def service(registry) -> RegistryService:
    return worker_factory(RegistryService, unit_of_work=registry)


def test_registering_returns_a_pending_first_version_with_the_given_fields(service):
    registered = service.register_association(DRAFT)

    assert registered["status"] == "pending"
    assert registered["version"] == 1
    assert registered["name"] == DRAFT["name"]
    assert registered["country"] == "SG"
    assert registered["city"] == DRAFT["city"]
    assert registered["languages"] == ["lus", "eng"]
    assert registered["email"] == DRAFT["email"]
    assert registered["description"] == DRAFT["description"]
    assert registered["registered_at"] == registered["updated_at"]
    UUID(registered["id"])


def test_registering_stores_the_association_and_commits_one_registered_event(service, registry):
    registered = service.register_association(DRAFT)
    association_id = UUID(registered["id"])

    stored = registry.associations[association_id]
    assert stored.model_dump(mode="json") == registered
    assert len(registry.committed_events) == 1
    [event] = registry.committed_events
    assert isinstance(event, AssociationRegisteredV1)
    assert event.aggregate_id == association_id
    assert event.aggregate_version == 1
    assert event.association == stored


def test_a_registered_association_can_be_read_back(service):
    registered = service.register_association(DRAFT)

    assert service.get_association(registered["id"]) == registered


def test_reading_an_unknown_association_is_not_found(service):
    unknown = str(uuid4())

    with pytest.raises(NotFound, match=unknown):
        service.get_association(unknown)


def test_reading_with_a_malformed_id_is_not_found(service):
    with pytest.raises(NotFound, match="not-a-uuid"):
        service.get_association("not-a-uuid")


def test_an_invalid_draft_is_refused_and_changes_nothing(service, registry):
    with pytest.raises(Invalid, match="country"):
        service.register_association({**DRAFT, "country": "XX"})

    assert registry.associations == {}
    assert registry.committed_events == []
