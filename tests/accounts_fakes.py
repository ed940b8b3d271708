"""The account repository in memory, with a unit of work like servicekit's: a fake for the tests.

It passes the same contract suite as the SQL repository (tests/integration/test_accounts_repository.py).
Associations and individuals are not kept here: a principal administers nothing and is no individual.
"""

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from contracts.accounts import Principal
from contracts.errors import Conflict
from contracts.events import EventEnvelope
from services.registry.accounts.domain import Account, LoginSession, Throttle


class InMemoryAccountStore:
    """The committed state; calling it opens a unit of work, as servicekit.database's provider does."""

    def __init__(self):
        self.accounts: dict[UUID, Account] = {}
        self.sessions: dict[str, LoginSession] = {}
        self.throttles: dict[str, Throttle] = {}
        self.committed_events: list[EventEnvelope] = []

    def __call__(self) -> "InMemoryUnitOfWork":
        return InMemoryUnitOfWork(self)


class InMemoryUnitOfWork:
    """Works on a copy of the store; the copy replaces the store when the block ends normally."""

    def __init__(self, store: InMemoryAccountStore):
        self._store = store
        self._events: list[EventEnvelope] = []
        self.accounts: InMemoryAccountRepository

    def __enter__(self) -> "InMemoryUnitOfWork":
        self.accounts = InMemoryAccountRepository(
            dict(self._store.accounts), dict(self._store.sessions), dict(self._store.throttles)
        )
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()

    def add_event(self, raised: EventEnvelope) -> None:
        self._events.append(raised)

    def commit(self) -> None:
        self._store.accounts = dict(self.accounts.accounts)
        self._store.sessions = dict(self.accounts.sessions)
        self._store.throttles = dict(self.accounts.throttles_by_key)
        self._store.committed_events.extend(self._events)
        self._events.clear()


class InMemoryAccountRepository:
    def __init__(
        self,
        accounts: dict[UUID, Account] | None = None,
        sessions: dict[str, LoginSession] | None = None,
        throttles: dict[str, Throttle] | None = None,
    ):
        self.accounts = {} if accounts is None else accounts
        self.sessions = {} if sessions is None else sessions
        self.throttles_by_key = {} if throttles is None else throttles

    def add(self, account: Account) -> None:
        if self.get_by_email(account.email) is not None or account.id in self.accounts:
            raise Conflict("An account with this e-mail address already exists.")
        self.accounts[account.id] = account

    def get(self, account_id: UUID) -> Account | None:
        return self.accounts.get(account_id)

    def get_by_email(self, email: str) -> Account | None:
        return next((account for account in self.accounts.values() if account.email == email), None)

    def change_password(self, account_id: UUID, password_hash: str, changed_at: datetime) -> None:
        account = self.accounts.get(account_id)
        if account is not None:
            self.accounts[account_id] = replace(account, password_hash=password_hash, password_changed_at=changed_at)

    def add_session(self, login_session: LoginSession) -> None:
        self.sessions[login_session.token_hash] = login_session

    def get_session(self, token_hash: str) -> LoginSession | None:
        return self.sessions.get(token_hash)

    def revoke_session(self, token_hash: str, now: datetime) -> None:
        found = self.sessions.get(token_hash)
        if found is not None and found.revoked_at is None:
            self.sessions[token_hash] = replace(found, revoked_at=now)

    def revoke_sessions(self, account_id: UUID, now: datetime, *, keep_token_hash: str | None = None) -> None:
        for key, found in list(self.sessions.items()):
            if found.account_id == account_id and found.revoked_at is None and key != keep_token_hash:
                self.sessions[key] = replace(found, revoked_at=now)

    def delete_expired_sessions(self, account_id: UUID, now: datetime) -> None:
        for key, found in list(self.sessions.items()):
            if found.account_id == account_id and found.expires_at <= now:
                del self.sessions[key]

    def principal_for_session(self, token_hash: str, now: datetime) -> Principal | None:
        found = self.sessions.get(token_hash)
        if found is None or not found.is_open(now):
            return None
        if found.needs_touch(now):
            self.sessions[token_hash] = replace(found, last_seen_at=now)
        account = self.accounts[found.account_id]
        return Principal(
            account_id=account.id,
            email=account.email,
            display_name=account.display_name,
            is_cell_staff=account.is_cell_staff,
        )

    def prune(self, now: datetime, *, failure_window: timedelta) -> int:
        stale_sessions = [
            key
            for key, found in self.sessions.items()
            if found.expires_at <= now or (found.revoked_at is not None and found.revoked_at <= now - timedelta(days=1))
        ]
        stale_throttles = [
            key
            for key, throttle in self.throttles_by_key.items()
            if throttle.window_started_at <= now - failure_window
            and (throttle.locked_until is None or throttle.locked_until <= now - failure_window)
        ]
        for key in stale_sessions:
            del self.sessions[key]
        for key in stale_throttles:
            del self.throttles_by_key[key]
        return len(stale_sessions) + len(stale_throttles)

    def throttles(self, keys: list[str]) -> list[Throttle]:
        return [self.throttles_by_key[key] for key in keys if key in self.throttles_by_key]

    def throttle_for_update(self, key: str, now: datetime) -> Throttle:
        return self.throttles_by_key.setdefault(key, Throttle(key=key, failures=0, window_started_at=now))

    def save_throttle(self, throttle: Throttle) -> None:
        self.throttles_by_key[throttle.key] = throttle

    def clear_throttle(self, key: str) -> None:
        self.throttles_by_key.pop(key, None)
