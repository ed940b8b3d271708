"""Every registry use case takes the time from the service's one injected clock, never from the wall clock."""

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import Unauthenticated
from services.registry.accounts.handlers import token_hash
from services.registry.service import RegistryService
from tests.registry_fakes import FakeGazetteer, InMemoryRegistry

MWA = {
    "name": "Mizo Welfare Association Dubai",
    "country": "AE",
    "city": "Dubai",
    "languages": ["lus"],
    "email": "mwa.dubai@example.org",
}
CSV = "name,country,city,languages,email\nSharjah Mizo Kohhran,AE,Sharjah,lus,smk@example.org\n"
PERSON = {"name": "Lalremruati", "country": "AE", "city": "Dubai", "languages": ["lus"]}


class StoppedClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> StoppedClock:
    """An hour ago, to the second: far enough from the wall clock that a time read from it would show."""
    return StoppedClock((datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0))


@pytest.fixture
def registry() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def service(registry, clock):
    return worker_factory(RegistryService, unit_of_work=registry, gazetteer=FakeGazetteer(), clock=clock)


def as_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_associations_are_registered_verified_changed_and_imported_at_the_clocks_time(service, registry, clock):
    cell, admin = registry.sign_in("cell@mizoram.gov.in", cell_staff=True), registry.sign_in()

    registered = service.register_association(admin.token, MWA)
    verified = service.decide_association(cell.token, registered["id"], {"decision": "verify"})
    [history] = service.association_history(cell.token, registered["id"])[-1:]
    report = service.import_associations_csv(cell.token, CSV)
    [imported] = report["imported"]

    assert as_time(registered["registered_at"]) == as_time(registered["updated_at"]) == clock.now
    assert as_time(verified["verification_due_at"]) == clock.now + timedelta(days=365)
    assert as_time(history["changed_at"]) == clock.now
    assert as_time(service.get_association(cell.token, imported["id"])["registered_at"]) == clock.now
    assert {event.occurred_at for event in registry.committed_events} == {clock.now}


def test_verifications_fall_due_and_sessions_expire_by_the_clock(service, registry, clock):
    cell, admin = registry.sign_in("cell@mizoram.gov.in", cell_staff=True), registry.sign_in()
    registered = service.register_association(admin.token, MWA)
    service.decide_association(cell.token, registered["id"], {"decision": "verify"})
    registry.state.sessions[token_hash(cell.token)]["expires_at"] = clock.now + timedelta(days=1000)
    assert service.associations_due_for_verification(cell.token) == []

    clock.now += timedelta(days=366)

    assert [due["id"] for due in service.associations_due_for_verification(cell.token)] == [registered["id"]]
    with pytest.raises(Unauthenticated):  # the admin's session, valid by the wall clock, has ended by this clock
        service.get_association(admin.token, registered["id"])


def test_individuals_and_memberships_are_dated_by_the_clock(service, registry, clock):
    cell, admin, person = (
        registry.sign_in("cell@mizoram.gov.in", cell_staff=True),
        registry.sign_in(),
        registry.sign_in("ruati@example.org"),
    )
    association = service.register_association(admin.token, MWA)
    service.decide_association(cell.token, association["id"], {"decision": "verify"})

    profile = service.register_individual(person.token, PERSON)
    clock.now += timedelta(minutes=5)
    membership = service.request_membership(person.token, association["id"])
    clock.now += timedelta(minutes=5)
    decided = service.decide_membership(admin.token, membership["id"], {"decision": "accept"})
    clock.now += timedelta(minutes=5)
    updated = service.update_individual(person.token, profile["id"], {"city": "Sharjah"})

    assert as_time(profile["registered_at"]) == clock.now - timedelta(minutes=15)
    assert as_time(membership["requested_at"]) == clock.now - timedelta(minutes=10)
    assert as_time(decided["decided_at"]) == clock.now - timedelta(minutes=5)
    assert as_time(updated["updated_at"]) == clock.now
