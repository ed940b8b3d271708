"""Account rules in plain Python: who an e-mail is, what a session is, when failed logins lock a key."""

import hashlib
import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from contracts.accounts import AccountV1
from services.registry.accounts.common_passwords import HOW_MANY, is_common

WRONG_CREDENTIALS = "The e-mail address or the password is not right."
SIGN_IN_FIRST = "Sign in first: the session is missing, has expired or was ended."


# The e-mail address's name is forbidden in a password from five letters; each of its parts (`lal.remruata`) from
# six, so that a short common word such as "cell" or "info" in an address forbids nothing.
SHORTEST_NAME = 5
SHORTEST_NAME_PART = 6


def _letters_and_digits(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def password_problem(password: str, email: str) -> str | None:
    """Why this password may not be used with this e-mail address, or None: one of the most common passwords,
    or one that contains the address's name (five letters or more) or a part of it (six or more)."""
    if is_common(password):
        return f"password: is one of the {HOW_MANY:,} most common passwords; choose another"
    name = normalized_email(email).split("@", 1)[0]
    separated = name.replace("-", ".").replace("_", ".").replace("+", ".")
    parts = [_letters_and_digits(part) for part in separated.split(".")]
    forbidden = [part for part in parts if len(part) >= SHORTEST_NAME_PART]
    if len(_letters_and_digits(name)) >= SHORTEST_NAME:
        forbidden.append(_letters_and_digits(name))
    folded = _letters_and_digits(password)
    if any(part in folded for part in forbidden):
        return "password: contains your e-mail address's name; choose one that does not"
    return None


def normalized_email(email: str) -> str:
    """One account per address whatever its case: `Lal@Example.org` and `lal@example.org` are one person."""
    return email.strip().lower()


def token_hash(token: str) -> str:
    """What the registry stores of a session token: a copy of the sessions table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AccountPolicy:
    session_lifetime: timedelta = timedelta(days=14)
    idle_timeout: timedelta = timedelta(hours=2)  # a session unused this long ends
    cell_staff_session_lifetime: timedelta = timedelta(hours=8)
    cell_staff_idle_timeout: timedelta = timedelta(minutes=30)
    account_failure_limit: int = 5  # per (account, client address), and for password changes per account
    address_failure_limit: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    lock_duration: timedelta = timedelta(minutes=15)  # the first lock; each failure after one lifts doubles it
    longest_lock: timedelta = timedelta(hours=24)
    sign_up_limit: int = 20  # sign-ups (made or refused) from one client address in a failure window


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    display_name: str
    password_hash: str = field(repr=False)
    is_cell_staff: bool
    created_at: datetime
    password_changed_at: datetime
    totp_secret: str | None = field(default=None, repr=False)
    totp_confirmed_at: datetime | None = None
    totp_last_step: int | None = None

    @property
    def uses_second_factor(self) -> bool:
        """Cell staff whose authenticator app has been confirmed with a first code."""
        return self.is_cell_staff and self.totp_confirmed_at is not None

    @property
    def must_enrol_second_factor(self) -> bool:
        return self.is_cell_staff and self.totp_confirmed_at is None

    def public(self) -> AccountV1:
        return AccountV1(
            id=self.id,
            email=self.email,
            display_name=self.display_name,
            is_cell_staff=self.is_cell_staff,
            created_at=self.created_at,
        )


def new_account(
    *, email: str, display_name: str, password_hash: str, now: datetime, is_cell_staff: bool = False
) -> Account:
    return Account(
        id=uuid4(),
        email=normalized_email(email),
        display_name=display_name,
        password_hash=password_hash,
        is_cell_staff=is_cell_staff,
        created_at=now,
        password_changed_at=now,
    )


# Using a session moves its last use on at most this often: not a database write for every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class LoginSession:
    token_hash: str
    account_id: UUID
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None
    idle_timeout: timedelta | None = None
    must_enrol_second_factor: bool = False

    def is_open(self, now: datetime) -> bool:
        """Not revoked, not expired, and used within its idle timeout."""
        if self.revoked_at is not None or now >= self.expires_at:
            return False
        last_used = self.last_seen_at or self.created_at
        return self.idle_timeout is None or now < last_used + self.idle_timeout

    def needs_touch(self, now: datetime) -> bool:
        return self.idle_timeout is not None and now - (self.last_seen_at or self.created_at) >= LAST_SEEN_RESOLUTION


def open_session(
    *,
    account_id: UUID,
    now: datetime,
    policy: AccountPolicy,
    is_cell_staff: bool = False,
    must_enrol_second_factor: bool = False,
) -> tuple[str, LoginSession]:
    """A new random token (returned once, to the person) and the session the registry keeps of it.
    Cell staff, who see everyone's contact details, get a shorter session and a shorter idle timeout; before
    their second factor is set up, a session that may only enrol."""
    token = secrets.token_urlsafe(32)
    lifetime = policy.cell_staff_session_lifetime if is_cell_staff else policy.session_lifetime
    idle = policy.cell_staff_idle_timeout if is_cell_staff else policy.idle_timeout
    session = LoginSession(
        token_hash=token_hash(token),
        account_id=account_id,
        created_at=now,
        expires_at=now + lifetime,
        last_seen_at=now,
        idle_timeout=idle,
        must_enrol_second_factor=must_enrol_second_factor,
    )
    return token, session


@dataclass(frozen=True)
class Throttle:
    """Failed logins of one key in its current window; `locked_until` is set once the limit is reached."""

    key: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime, *, limit: int, policy: AccountPolicy) -> "Throttle":
        """Counts one more failure; at `limit` the key locks for `policy.lock_duration`.

        Delays grow: a failure within the failure window after a lock lifted keeps counting, and each lock is
        twice as long as the one before (at most `policy.longest_lock`). A quiet window starts afresh.
        """
        if self.is_locked(now):
            return self
        counting_since = self.locked_until or self.window_started_at
        if now - counting_since >= policy.failure_window:
            counted = replace(self, failures=1, window_started_at=now, locked_until=None)
        else:
            counted = replace(self, failures=self.failures + 1)
        if counted.failures >= limit:
            doublings = min(counted.failures - limit, 16)
            lock = min(policy.lock_duration * 2**doublings, policy.longest_lock)
            counted = replace(counted, locked_until=now + lock)
        return counted


def account_key(email: str) -> str:
    """Keyed by the e-mail given, whether or not an account has it, so that a lock tells nothing."""
    return f"account:{normalized_email(email)}"


def address_key(address: str) -> str:
    return f"address:{address}"


def sign_up_key(address: str) -> str:
    return f"sign-up:{address}"


def login_key(email: str, client_address: str | None) -> str:
    """One account from one client address: failures elsewhere never lock its owner out of their own address."""
    return f"login:{normalized_email(email)} from {client_address or 'an unknown address'}"


def throttle_limits(*, email: str, client_address: str | None, policy: AccountPolicy) -> dict[str, int]:
    """The keys a login attempt counts against, each with its limit: the account from this address first,
    then the address alone (against one address guessing many accounts)."""
    limits = {login_key(email, client_address): policy.account_failure_limit}
    if client_address:
        limits[address_key(client_address)] = policy.address_failure_limit
    return limits


def lock_message(throttles: list[Throttle], now: datetime) -> str | None:
    """The answer to a locked login, the same whichever key is locked and whether or not the account exists."""
    lifted_at = [throttle.locked_until for throttle in throttles if throttle.is_locked(now)]
    if not lifted_at:
        return None
    minutes = max(1, math.ceil((max(lifted_at) - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."
