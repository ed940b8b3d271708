"""Accounts, sessions and login throttles in the registry's database."""

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Conflict
from services.registry.accounts.domain import Account, LoginSession, Throttle
from services.registry.accounts.second_factor_repository import SecondFactorQueries
from services.registry.db import (
    AccountRecord,
    AssociationAdminRecord,
    AssociationRecord,
    IndividualRecord,
    LoginThrottleRecord,
    SessionRecord,
)

# A revoked session is kept a day, so that "who ended it when" can still be looked at.
REVOKED_SESSIONS_KEPT = timedelta(days=1)


def _account(record: AccountRecord) -> Account:
    return Account(
        id=record.id,
        email=record.email,
        display_name=record.display_name,
        password_hash=record.password_hash,
        is_cell_staff=record.is_cell_staff,
        created_at=record.created_at,
        password_changed_at=record.password_changed_at,
        totp_secret=record.totp_secret,
        totp_confirmed_at=record.totp_confirmed_at,
        totp_last_step=record.totp_last_step,
    )


def _throttle(record: LoginThrottleRecord) -> Throttle:
    return Throttle(
        key=record.key,
        failures=record.failures,
        window_started_at=record.window_started_at,
        locked_until=record.locked_until,
    )


def _login_session(record: SessionRecord) -> LoginSession:
    return LoginSession(
        token_hash=record.token_hash,
        account_id=record.account_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        last_seen_at=record.last_seen_at,
        idle_timeout=None if record.idle_timeout_seconds is None else timedelta(seconds=record.idle_timeout_seconds),
        must_enrol_second_factor=bool(record.must_enrol_second_factor),
    )


def _principal(
    account_id: UUID, account, administered, now: datetime, individual_id: UUID | None, must_enrol_second_factor
) -> Principal:
    """`account` has the account's `email`, `display_name` and `is_cell_staff`; each of `administered` an
    association's `association_id`, `country`, `status`, `merged_into` and `verification_due_at`.

    Built without validation: every value is of its field's type, read from our own tables, and the e-mail address
    was validated when it was stored; validating it again (email_validator) cost every signed-in request 0.1 ms."""
    return Principal.model_construct(
        account_id=account_id,
        email=account.email,
        display_name=account.display_name,
        is_cell_staff=bool(account.is_cell_staff),
        administers=[
            AdministeredAssociation(
                id=row.association_id,
                country=row.country,
                verified=row.status == "verified"
                and row.merged_into is None
                and (row.verification_due_at is None or now < row.verification_due_at),
            )
            for row in administered
        ],
        individual_id=individual_id,
        must_enrol_second_factor=bool(must_enrol_second_factor),
    )


_SESSIONS, _ACCOUNTS = SessionRecord.__table__, AccountRecord.__table__
_ADMINS, _ASSOCIATIONS = AssociationAdminRecord.__table__, AssociationRecord.__table__
# The session, its account, the account's profile and what it administers, for principal_for_session.
PRINCIPAL_BY_SESSION = (
    select(
        *_SESSIONS.c,
        _ACCOUNTS.c.email,
        _ACCOUNTS.c.display_name,
        _ACCOUNTS.c.is_cell_staff,
        select(IndividualRecord.__table__.c.id)
        .where(IndividualRecord.__table__.c.account_id == _ACCOUNTS.c.id)
        .scalar_subquery()
        .label("individual_id"),
        _ASSOCIATIONS.c.id.label("association_id"),
        _ASSOCIATIONS.c.country,
        _ASSOCIATIONS.c.status,
        _ASSOCIATIONS.c.merged_into,
        _ASSOCIATIONS.c.verification_due_at,
    )
    .join(_ACCOUNTS, _SESSIONS.c.account_id == _ACCOUNTS.c.id)
    # Two outer joins, not one onto a nested join: SQLite would build the nested join whole, every admin's.
    .outerjoin(_ADMINS, _ADMINS.c.account_id == _ACCOUNTS.c.id)
    .outerjoin(_ASSOCIATIONS, _ASSOCIATIONS.c.id == _ADMINS.c.association_id)
    .where(_SESSIONS.c.token_hash == bindparam("token_hash"))
    .order_by(_ASSOCIATIONS.c.id)
)


class AccountRepository(SecondFactorQueries):
    """E-mail addresses are stored as domain.normalized_email gives them, and looked up the same way."""

    def __init__(self, session: Session):
        self.session = session

    # Accounts

    def add(self, account: Account) -> None:
        """Conflict if an account already has this e-mail address (also when two sign up at once)."""
        self.session.add(
            AccountRecord(
                id=account.id,
                email=account.email,
                display_name=account.display_name,
                password_hash=account.password_hash,
                is_cell_staff=account.is_cell_staff,
                created_at=account.created_at,
                password_changed_at=account.password_changed_at,
            )
        )
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict("An account with this e-mail address already exists.") from None

    def get(self, account_id: UUID) -> Account | None:
        record = self.session.get(AccountRecord, account_id)
        return None if record is None else _account(record)

    def get_by_email(self, email: str) -> Account | None:
        record = self.session.scalar(select(AccountRecord).where(AccountRecord.email == email))
        return None if record is None else _account(record)

    def change_password(self, account_id: UUID, password_hash: str, changed_at: datetime) -> None:
        self.session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account_id)
            .values(password_hash=password_hash, password_changed_at=changed_at)
        )

    # Sessions

    def add_session(self, login_session: LoginSession) -> None:
        self.session.add(
            SessionRecord(
                token_hash=login_session.token_hash,
                account_id=login_session.account_id,
                created_at=login_session.created_at,
                expires_at=login_session.expires_at,
                revoked_at=login_session.revoked_at,
                last_seen_at=login_session.last_seen_at,
                idle_timeout_seconds=(
                    None if login_session.idle_timeout is None else int(login_session.idle_timeout.total_seconds())
                ),
                must_enrol_second_factor=login_session.must_enrol_second_factor,
            )
        )
        self.session.flush()

    def get_session(self, token_hash: str) -> LoginSession | None:
        record = self.session.get(SessionRecord, token_hash)
        return None if record is None else _login_session(record)

    def revoke_session(self, token_hash: str, now: datetime) -> None:
        self.session.execute(
            update(SessionRecord)
            .where(SessionRecord.token_hash == token_hash, SessionRecord.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_sessions(self, account_id: UUID, now: datetime, *, keep_token_hash: str | None = None) -> None:
        """Every open session of the account but the one kept."""
        statement = (
            update(SessionRecord)
            .where(SessionRecord.account_id == account_id, SessionRecord.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if keep_token_hash is not None:
            statement = statement.where(SessionRecord.token_hash != keep_token_hash)
        self.session.execute(statement)

    def delete_expired_sessions(self, account_id: UUID, now: datetime) -> None:
        self.session.execute(
            delete(SessionRecord).where(SessionRecord.account_id == account_id, SessionRecord.expires_at <= now)
        )

    def prune(self, now: datetime, *, failure_window: timedelta) -> int:
        """Delete sessions that expired or were revoked a day ago or more, and throttles whose window has passed
        and whose lock (if any) lifted a window ago or more; return how many rows went."""
        sessions = self.session.execute(
            delete(SessionRecord).where(
                or_(SessionRecord.expires_at <= now, SessionRecord.revoked_at <= now - REVOKED_SESSIONS_KEPT)
            )
        )
        throttles = self.session.execute(
            delete(LoginThrottleRecord).where(
                LoginThrottleRecord.window_started_at <= now - failure_window,
                # A lock that lifted less than a window ago still counts towards the next, longer one.
                or_(
                    LoginThrottleRecord.locked_until.is_(None),
                    LoginThrottleRecord.locked_until <= now - failure_window,
                ),
            )
        )
        return sessions.rowcount + throttles.rowcount

    def principal_for_session(self, token_hash: str, now: datetime) -> Principal | None:
        """The account behind an open session (unexpired, unrevoked, used within its idle timeout), with what it
        administers; the session's last use moves on to now (at most once a minute).

        One Core query (a row per administered association, or one row without): every signed-in request pays
        for it, and the ORM's loading of the two records with two more queries cost more than the database's work.
        """
        rows = self.session.connection().execute(PRINCIPAL_BY_SESSION, {"token_hash": token_hash}).all()
        if not rows:
            return None
        first = rows[0]
        login_session = _login_session(first)
        if not login_session.is_open(now):
            return None
        if login_session.needs_touch(now):
            self.session.execute(
                update(SessionRecord).where(SessionRecord.token_hash == token_hash).values(last_seen_at=now)
            )
        administered = [row for row in rows if row.association_id is not None]
        return _principal(
            first.account_id, first, administered, now, first.individual_id, first.must_enrol_second_factor
        )

    def principal(self, account: AccountRecord, now: datetime, *, must_enrol_second_factor: bool = False) -> Principal:
        """`verified` holds while the association is verified, not merged and not past its verification due date."""
        administered = self.session.execute(
            select(
                AssociationRecord.id.label("association_id"),
                AssociationRecord.country,
                AssociationRecord.status,
                AssociationRecord.merged_into,
                AssociationRecord.verification_due_at,
            )
            .join(AssociationAdminRecord, AssociationAdminRecord.association_id == AssociationRecord.id)
            .where(AssociationAdminRecord.account_id == account.id)
            .order_by(AssociationRecord.id)
        ).all()
        individual_id = self.session.scalar(
            select(IndividualRecord.id).where(IndividualRecord.account_id == account.id)
        )
        return _principal(account.id, account, administered, now, individual_id, must_enrol_second_factor)

    # Login throttles

    def throttles(self, keys: list[str]) -> list[Throttle]:
        records = self.session.scalars(select(LoginThrottleRecord).where(LoginThrottleRecord.key.in_(keys)))
        return [_throttle(record) for record in records]

    def throttle_for_update(self, key: str, now: datetime) -> Throttle:
        """The key's throttle (a new one with no failures if it has none), locked until the transaction ends.

        On PostgreSQL two failed logins at once on one key wait for each other, so no failure is lost.
        """
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        self.session.execute(
            insert(LoginThrottleRecord)
            .values(key=key, failures=0, window_started_at=now, locked_until=None)
            .on_conflict_do_nothing()
        )
        record = self.session.scalar(
            select(LoginThrottleRecord)
            .where(LoginThrottleRecord.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _throttle(record)

    def save_throttle(self, throttle: Throttle) -> None:
        self.session.execute(
            update(LoginThrottleRecord)
            .where(LoginThrottleRecord.key == throttle.key)
            .values(
                failures=throttle.failures,
                window_started_at=throttle.window_started_at,
                locked_until=throttle.locked_until,
            )
        )

    def clear_throttle(self, key: str) -> None:
        self.session.execute(delete(LoginThrottleRecord).where(LoginThrottleRecord.key == key))
