"""The registry's ports in memory (accounts, associations, individuals, the outbox), and the same test harness
over a real database.

`InMemoryRegistry` is what unit tests give nameko's worker_factory as `unit_of_work`; `DatabaseRegistry` wires
servicekit's UnitOfWork with the repositories exactly as services/registry/service.py does. Both offer the same
helpers (`sign_in`, `events`, `account_exists`, `open_sessions`), so one contract suite runs on memory, SQLite and
PostgreSQL alike (tests/integration/test_registry_*.py).
"""

import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from contracts.accounts import AdministeredAssociation, Principal
from contracts.associations import AssociationChange, AssociationV1, Location, PossibleDuplicate
from contracts.errors import Conflict
from contracts.events import EventEnvelope
from contracts.individuals import AccountSummary, AssociationMembership, MembershipV1
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from servicekit.outbox import TABLE_NAME as OUTBOX_TABLE
from services.registry.accounts.domain import Account, AccountPolicy, Throttle
from services.registry.accounts.handlers import token_hash
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.associations.duplicates import Candidate, DuplicateFinder, NamedAssociation
from services.registry.db import AccountRecord, Base, SessionRecord
from services.registry.service import RegistryService

SESSION_LIFETIME = timedelta(days=1)
# Every signed-in caller's password (deleting an account asks for it again), hashed quickly for the tests.
CALLER_PASSWORD = "the caller's own password"
FAST_PASSWORDS = Argon2Passwords.of_profile("fast-for-tests-only")
CALLER_PASSWORD_HASH = FAST_PASSWORDS.hash(CALLER_PASSWORD)


def registry_worker(registry, **dependencies):
    """RegistryService's worker with these ports, the quick hasher and a real clock."""
    defaults = {
        "gazetteer": FakeGazetteer(),
        "clock": lambda: datetime.now(UTC),
        "passwords": FAST_PASSWORDS,
        "account_policy": AccountPolicy(),
    }
    return worker_factory(RegistryService, unit_of_work=registry, **defaults | dependencies)


class FakeGazetteer:
    """A handful of cities, looked up as the real gazetteer does (case folded, by country)."""

    CITIES = {
        ("dubai", "AE"): Location(lat=25.07725, lon=55.30927),
        ("sharjah", "AE"): Location(lat=25.33737, lon=55.41206),
        ("aizawl", "IN"): Location(lat=23.72894, lon=92.71791),
        ("delhi", "IN"): Location(lat=28.65195, lon=77.23149),
        ("singapore", "SG"): Location(lat=1.28967, lon=103.85007),
        ("london", "GB"): Location(lat=51.50853, lon=-0.12574),
    }

    def locate(self, city: str, country: str) -> Location | None:
        return self.CITIES.get((city.strip().casefold(), country))


@dataclass(frozen=True)
class Caller:
    account_id: UUID
    token: str


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    association_id: UUID
    account_id: UUID | None
    changed_at: datetime
    field: str
    old_value: object
    new_value: object


@dataclass
class RegistryState:
    accounts: dict[UUID, dict] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    associations: dict[UUID, AssociationV1] = field(default_factory=dict)
    import_keys: dict[UUID, str] = field(default_factory=dict)
    admins: dict[tuple[UUID, UUID], datetime] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    duplicates: dict[tuple[UUID, UUID], int] = field(default_factory=dict)
    individuals: dict[UUID, dict] = field(default_factory=dict)
    memberships: dict[UUID, dict] = field(default_factory=dict)
    events: list[EventEnvelope] = field(default_factory=list)

    def drop_account(self, account_id: UUID) -> None:
        """What the foreign keys' ON DELETE CASCADE does in the database."""
        self.accounts.pop(account_id, None)
        self.sessions = {key: found for key, found in self.sessions.items() if found["account_id"] != account_id}
        self.admins = {key: granted for key, granted in self.admins.items() if key[1] != account_id}


class InMemoryAccounts:
    def __init__(self, state: RegistryState):
        self.state = state

    def get(self, account_id: UUID) -> Account | None:
        found = self.state.accounts.get(account_id)
        if found is None:
            return None
        return Account(
            id=found["id"],
            email=found["email"],
            display_name=found["display_name"],
            password_hash=found["password_hash"],
            is_cell_staff=found["is_cell_staff"],
            created_at=found["created_at"],
            password_changed_at=found["created_at"],
        )

    def throttles(self, keys: list[str]) -> list[Throttle]:
        return [self.state.throttles[key] for key in keys if key in self.state.throttles]

    def throttle_for_update(self, key: str, now: datetime) -> Throttle:
        return self.state.throttles.setdefault(key, Throttle(key=key, failures=0, window_started_at=now))

    def save_throttle(self, throttle: Throttle) -> None:
        self.state.throttles[throttle.key] = throttle

    def principal_for_session(self, hashed_token: str, now: datetime) -> Principal | None:
        found = self.state.sessions.get(hashed_token)
        if found is None or found["revoked_at"] is not None or found["expires_at"] <= now:
            return None
        account = self.state.accounts[found["account_id"]]
        administered = sorted(
            (
                self.state.associations[association_id]
                for association_id, account_id in self.state.admins
                if account_id == account["id"]
            ),
            key=lambda association: association.id,
        )
        individual_id = next(
            (profile["id"] for profile in self.state.individuals.values() if profile["account_id"] == account["id"]),
            None,
        )
        return Principal(
            account_id=account["id"],
            email=account["email"],
            display_name=account["display_name"],
            is_cell_staff=account["is_cell_staff"],
            administers=[
                AdministeredAssociation(
                    id=item.id,
                    country=item.country,
                    verified=item.status == "verified"
                    and item.merged_into is None
                    and (item.verification_due_at is None or now < item.verification_due_at),
                )
                for item in administered
            ],
            individual_id=individual_id,
        )


class InMemoryAssociations:
    def __init__(self, state: RegistryState):
        self.state = state

    def add(self, association: AssociationV1, *, import_key: str | None = None) -> None:
        assert association.id not in self.state.associations
        self.state.associations[association.id] = association
        if import_key is not None:
            assert import_key not in self.state.import_keys.values(), "import_key is unique"
            self.state.import_keys[association.id] = import_key

    def add_imported(self, imported: list[tuple[AssociationV1, str]]) -> None:
        for association, import_key in imported:
            self.add(association, import_key=import_key)

    def save(self, association: AssociationV1) -> None:
        stored = self.state.associations[association.id]
        if stored.version != association.version - 1:
            raise Conflict(f"association {association.id} was changed by someone else meanwhile; reload and try again")
        self.state.associations[association.id] = association

    def existing_ids(self, association_ids: set[UUID]) -> set[UUID]:
        return {association_id for association_id in association_ids if association_id in self.state.associations}

    def get(self, association_id: UUID) -> AssociationV1 | None:
        return self.state.associations.get(association_id)

    def exists(self, association_id: UUID) -> bool:
        return association_id in self.state.associations

    def page(self, *, status: str | None, page: int, size: int) -> tuple[int, list[AssociationV1]]:
        found = [
            association
            for association in self.state.associations.values()
            if association.merged_into is None and (status is None or association.status == status)
        ]
        found.sort(key=lambda association: (association.registered_at, association.id))
        return len(found), found[(page - 1) * size : page * size]

    def due_for_verification(self, now: datetime) -> list[AssociationV1]:
        due = [
            association
            for association in self.state.associations.values()
            if association.status == "verified"
            and association.merged_into is None
            and association.verification_due_at is not None
            and association.verification_due_at <= now
        ]
        return sorted(due, key=lambda association: association.verification_due_at)

    def after(self, after_id: UUID | None, limit: int) -> list[AssociationV1]:
        ordered = sorted(self.state.associations.values(), key=lambda association: association.id)
        return [association for association in ordered if after_id is None or association.id > after_id][:limit]

    def name_index(self, country: str) -> DuplicateFinder:
        finder = DuplicateFinder()
        for named in self.named_in_country(country):
            finder.add(named)
        return finder

    def key_sizes_by_country(self, keys: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        return {country: self.name_index(country).key_sizes(its_keys) for country, its_keys in keys.items()}

    def holders_by_country(self, keys: dict[str, set[str]]):
        holders, names = {}, {}
        for country, its_keys in keys.items():
            finder = self.name_index(country)
            holders[country] = {key: sorted(finder.by_key[key]) for key in its_keys if key in finder.by_key}
            names.update((holder, finder.names[holder]) for held in holders[country].values() for holder in held)
        return holders, names

    def named_in_country(self, country: str) -> list[NamedAssociation]:
        return [
            NamedAssociation(association.id, (association.name, *association.alternate_names))
            for association in self.state.associations.values()
            if association.country == country and association.merged_into is None and association.status != "dissolved"
        ]

    def imported_keys(self, keys) -> set[str]:
        return set(keys) & set(self.state.import_keys.values())

    def add_admin(self, association_id: UUID, account_id: UUID, now: datetime) -> None:
        self.state.admins[(association_id, account_id)] = now

    def admin_ids(self, association_id: UUID) -> set[UUID]:
        return {account_id for (of, account_id) in self.state.admins if of == association_id}

    def record_history(self, association_id: UUID, changes, *, account_id: UUID | None, now: datetime) -> None:
        for change in changes:
            self.state.history.append(
                HistoryEntry(
                    len(self.state.history) + 1,
                    association_id,
                    account_id,
                    now,
                    change.field,
                    copy.deepcopy(change.old_value),
                    copy.deepcopy(change.new_value),
                )
            )

    def history(self, association_id: UUID) -> list[AssociationChange]:
        return [
            AssociationChange.model_validate(entry, from_attributes=True)
            for entry in self.state.history
            if entry.association_id == association_id
        ]

    def flag_duplicates(self, flagged: dict[UUID, list[Candidate]]) -> None:
        for association_id, candidates in flagged.items():
            for candidate in candidates:
                self.state.duplicates[(association_id, candidate.id)] = candidate.score

    def clear_duplicates(self, association_id: UUID) -> None:
        self.state.duplicates = {
            pair: score for pair, score in self.state.duplicates.items() if association_id not in pair
        }

    def possible_duplicates(self, association_ids: list[UUID]) -> dict[UUID, list[PossibleDuplicate]]:
        found: dict[UUID, list[PossibleDuplicate]] = {association_id: [] for association_id in association_ids}
        flagged = sorted(self.state.duplicates.items(), key=lambda item: -item[1])
        for (association_id, candidate_id), score in flagged:
            if association_id in found:
                name = self.state.associations[candidate_id].name
                found[association_id].append(PossibleDuplicate(id=candidate_id, name=name, score=score))
        return found


class InMemoryIndividuals:
    def __init__(self, state: RegistryState):
        self.state = state

    def add(self, profile: dict) -> None:
        self.state.individuals[profile["id"]] = dict(profile)

    def get(self, individual_id: UUID) -> dict | None:
        found = self.state.individuals.get(individual_id)
        return None if found is None else dict(found)

    def of_account(self, account_id: UUID) -> dict | None:
        return next(
            (dict(profile) for profile in self.state.individuals.values() if profile["account_id"] == account_id), None
        )

    def save(self, profile: dict) -> None:
        assert profile["id"] in self.state.individuals
        self.state.individuals[profile["id"]] = dict(profile)

    def delete_with_account(self, profile: dict) -> None:
        for membership in self.state.memberships.values():
            if membership["individual_id"] == profile["id"]:
                membership["individual_id"] = None
        del self.state.individuals[profile["id"]]
        self.state.drop_account(profile["account_id"])

    def delete_account(self, account_id: UUID) -> None:
        self.state.drop_account(account_id)

    def account_summary(self, account_id: UUID) -> AccountSummary:
        account = self.state.accounts[account_id]
        return AccountSummary(
            email=account["email"], display_name=account["display_name"], created_at=account["created_at"]
        )

    def add_membership(self, membership: MembershipV1) -> None:
        self.state.memberships[membership.id] = membership.model_dump() | {"version": 1, "decided_by": None}

    def _membership(self, row: dict) -> MembershipV1:
        return MembershipV1.model_validate(
            {key: value for key, value in row.items() if key in MembershipV1.model_fields}
        )

    def membership(self, membership_id: UUID) -> tuple[MembershipV1, int] | None:
        row = self.state.memberships.get(membership_id)
        return None if row is None else (self._membership(row), row["version"])

    def save_membership(self, membership: MembershipV1, *, decided_by: UUID) -> int:
        row = self.state.memberships[membership.id]
        row.update(status=membership.status, decided_at=membership.decided_at, decided_by=decided_by)
        row["version"] += 1
        return row["version"]

    def memberships_of(self, individual_id: UUID) -> list[MembershipV1]:
        rows = [row for row in self.state.memberships.values() if row["individual_id"] == individual_id]
        return [self._membership(row) for row in sorted(rows, key=lambda row: row["requested_at"])]

    def memberships_of_association(self, association_id: UUID, status: str | None, limit: int) -> list:
        rows = sorted(
            (
                row
                for row in self.state.memberships.values()
                if row["association_id"] == association_id and status in (None, row["status"])
            ),
            key=lambda row: (row["requested_at"], row["id"]),
        )
        found = []
        for row in rows[:limit]:
            person = self.state.individuals.get(row["individual_id"]) or {}
            found.append(
                AssociationMembership(
                    **dict(self._membership(row)),
                    individual_name=person.get("name"),
                    individual_city=person.get("city"),
                )
            )
        return found

    def accepted_association_ids(self, individual_id: UUID) -> list[UUID]:
        return sorted(
            row["association_id"]
            for row in self.state.memberships.values()
            if row["individual_id"] == individual_id and row["status"] == "accepted"
        )

    def after(self, after_id: UUID | None, limit: int) -> list[dict]:
        ordered = sorted(self.state.individuals.values(), key=lambda profile: profile["id"])
        return [dict(profile) for profile in ordered if after_id is None or profile["id"] > after_id][:limit]

    def memberships_after(self, after_id: UUID | None, limit: int) -> list[tuple[MembershipV1, int]]:
        ordered = sorted(self.state.memberships.values(), key=lambda row: row["id"])
        page = [row for row in ordered if after_id is None or row["id"] > after_id][:limit]
        return [(self._membership(row), row["version"]) for row in page]

    def accepted_association_ids_of(self, individual_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        return {individual_id: self.accepted_association_ids(individual_id) for individual_id in individual_ids}

    def association_names(self, association_ids: list[UUID]) -> dict[UUID, str]:
        return {
            association_id: self.state.associations[association_id].name
            for association_id in association_ids
            if association_id in self.state.associations
        }


class InMemoryUnitOfWork:
    """Works on a copy of the committed state, which it replaces when the block ends normally."""

    def __init__(self, registry: "InMemoryRegistry"):
        self._registry = registry

    def __enter__(self) -> "InMemoryUnitOfWork":
        self.state = copy.deepcopy(self._registry.state)
        self._versions_read = {key: association.version for key, association in self.state.associations.items()}
        self.accounts = InMemoryAccounts(self.state)
        self.associations = InMemoryAssociations(self.state)
        self.individuals = InMemoryIndividuals(self.state)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self._refuse_lost_updates()
            self._registry.state = self.state

    def _refuse_lost_updates(self) -> None:
        """Like the databases: an association changed here and committed by another meanwhile is a conflict."""
        committed = self._registry.state.associations
        for key, association in self.state.associations.items():
            read = self._versions_read.get(key)
            if read is not None and association.version != read and committed[key].version != read:
                raise Conflict(f"association {key} was changed by someone else meanwhile; reload and try again")

    def add_event(self, raised: EventEnvelope) -> None:
        self.state.events.append(raised)


class InMemoryRegistry:
    """What the service gets as `unit_of_work`: calling it opens a unit of work on the committed state."""

    def __init__(self):
        self.state = RegistryState()

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)

    def close(self) -> None:
        pass

    @property
    def committed_events(self) -> list[EventEnvelope]:
        return self.state.events

    def sign_in(self, email: str | None = None, *, cell_staff: bool = False) -> Caller:
        account_id, token, now = uuid4(), secrets.token_urlsafe(16), datetime.now(UTC)
        self.state.accounts[account_id] = {
            "id": account_id,
            "email": email or f"{account_id.hex[:12]}@example.org",
            "display_name": "Lalremruata",
            "is_cell_staff": cell_staff,
            "created_at": now,
            "password_hash": CALLER_PASSWORD_HASH,
        }
        self.state.sessions[token_hash(token)] = {
            "account_id": account_id,
            "expires_at": now + SESSION_LIFETIME,
            "revoked_at": None,
        }
        return Caller(account_id, token)

    def events(self) -> list[str]:
        return [event.routing_key for event in self.state.events]

    def account_exists(self, account_id: UUID) -> bool:
        return account_id in self.state.accounts

    def open_sessions(self, account_id: UUID) -> int:
        return sum(1 for found in self.state.sessions.values() if found["account_id"] == account_id)


class DatabaseRegistry:
    """A migrated registry database, with units of work wired as the service wires them."""

    def __init__(self, database_url: str):
        upgrade("services.registry", database_url)
        self.engine = create_database_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._outbox = Base.metadata.tables[OUTBOX_TABLE]

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, Base.metadata, repositories=RegistryService.unit_of_work.repositories)

    def close(self) -> None:
        self.engine.dispose()

    def sign_in(self, email: str | None = None, *, cell_staff: bool = False) -> Caller:
        """An account and a session, written as rows (as the accounts handlers would write them)."""
        account_id, token, now = uuid4(), secrets.token_urlsafe(16), datetime.now(UTC)
        with self._sessions() as session, session.begin():
            session.add(
                AccountRecord(
                    id=account_id,
                    email=email or f"{account_id.hex[:12]}@example.org",
                    display_name="Lalremruata",
                    password_hash=CALLER_PASSWORD_HASH,
                    is_cell_staff=cell_staff,
                    created_at=now,
                    password_changed_at=now,
                )
            )
            session.flush()
            session.add(
                SessionRecord(
                    token_hash=token_hash(token),
                    account_id=account_id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return Caller(account_id, token)

    def events(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.scalars(select(self._outbox.c.routing_key).order_by(self._outbox.c.id)))

    def account_exists(self, account_id: UUID) -> bool:
        with self._sessions() as session:
            return session.get(AccountRecord, account_id) is not None

    def open_sessions(self, account_id: UUID) -> int:
        with self._sessions() as session:
            return session.scalar(
                select(func.count()).select_from(SessionRecord).where(SessionRecord.account_id == account_id)
            )


class RegistrySuite:
    """Fixtures of the registry's contract suites; each subclass gives `registry` (fake or database)."""

    @pytest.fixture
    def service(self, registry):
        return registry_worker(registry)

    @pytest.fixture
    def cell(self, registry):
        return registry.sign_in("cell@mizoram.gov.in", cell_staff=True)

    @pytest.fixture
    def admin(self, registry):
        return registry.sign_in("admin@mwa-dubai.example.org")
