"""The account use cases on SQLite and PostgreSQL: what the unit tests show in memory holds in a real database."""

from datetime import UTC, datetime, timedelta
from functools import partial

import eventlet
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from contracts.accounts import LogIn, PasswordChange, SignUp
from contracts.errors import Conflict, TooManyAttempts, Unauthenticated
from servicekit.database import UnitOfWork, create_database_engine
from services.registry.accounts import handlers
from services.registry.accounts.domain import WRONG_CREDENTIALS, AccountPolicy
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.accounts.repository import AccountRepository
from services.registry.db import AccountRecord, Base, LoginThrottleRecord, SessionRecord

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "Thingtlang ram 2025"
POLICY = AccountPolicy()
PASSWORDS = Argon2Passwords.of_profile("fast-for-tests-only")


@pytest.fixture
def engine(database_url):
    engine = create_database_engine(database_url)
    Base.metadata.create_all(engine)  # until the registry's migration for accounts exists
    yield engine
    engine.dispose()


@pytest.fixture
def unit_of_work(engine):
    return partial(
        UnitOfWork,
        sessionmaker(engine, expire_on_commit=False),
        Base.metadata,
        repositories={"accounts": AccountRepository},
    )


def sign_up(unit_of_work, email="lalremruata@example.org"):
    draft = SignUp(email=email, password=PASSWORD, display_name="Lalremruata")
    return handlers.sign_up(unit_of_work=unit_of_work, passwords=PASSWORDS, draft=draft, now=NOW)


def log_in(unit_of_work, password=PASSWORD, *, now=NOW, email="lalremruata@example.org", address="203.0.113.7"):
    return handlers.log_in(
        unit_of_work=unit_of_work,
        passwords=PASSWORDS,
        policy=POLICY,
        credentials=LogIn(email=email, password=password),
        client_address=address,
        now=now,
    )


def whoami(unit_of_work, token, now=NOW):
    return handlers.whoami(unit_of_work=unit_of_work, token=token, now=now)


def test_only_the_hash_of_the_password_and_of_the_token_are_stored(unit_of_work, engine):
    sign_up(unit_of_work)
    token = log_in(unit_of_work).token

    with engine.connect() as connection:
        [stored_hash] = connection.execute(select(AccountRecord.password_hash)).scalars()
        [stored_token] = connection.execute(select(SessionRecord.token_hash)).scalars()
    assert stored_hash.startswith("$argon2id$")
    assert PASSWORD not in stored_hash
    assert stored_token == handlers.token_hash(token) != token


def test_an_email_differing_only_in_case_is_a_conflict(unit_of_work):
    sign_up(unit_of_work)

    with pytest.raises(Conflict):
        sign_up(unit_of_work, email="LALREMRUATA@EXAMPLE.ORG")


def test_failed_logins_are_counted_in_the_database_and_lock_then_lift(unit_of_work, engine):
    sign_up(unit_of_work)
    for attempt in range(5):
        with pytest.raises(Unauthenticated, match=WRONG_CREDENTIALS):
            log_in(unit_of_work, "not the password", now=NOW + timedelta(seconds=attempt))

    with pytest.raises(TooManyAttempts):
        log_in(unit_of_work, now=NOW + timedelta(minutes=10))
    with engine.connect() as connection:
        counted = {row.key: row.failures for row in connection.execute(select(LoginThrottleRecord))}
    assert counted == {"login:lalremruata@example.org from 203.0.113.7": 5, "address:203.0.113.7": 5}

    assert log_in(unit_of_work, now=NOW + timedelta(minutes=15, seconds=4)).token
    with engine.connect() as connection:
        keys = set(connection.execute(select(LoginThrottleRecord.key)).scalars())
    assert keys == {"address:203.0.113.7"}


def test_concurrent_failed_logins_are_all_counted(unit_of_work, engine):
    """On PostgreSQL each failure locks its throttle rows, so none overwrites another."""
    sign_up(unit_of_work)

    def fail(attempt: int) -> None:
        with pytest.raises((Unauthenticated, TooManyAttempts)):
            log_in(unit_of_work, "not the password", email=f"guess{attempt % 3}@example.org")

    pool = eventlet.GreenPool(6)
    list(pool.imap(fail, range(12)))

    with engine.connect() as connection:
        [failures] = connection.execute(
            select(LoginThrottleRecord.failures).where(LoginThrottleRecord.key == "address:203.0.113.7")
        ).scalars()
    assert failures == 12


def test_logout_expiry_and_password_change_end_sessions_in_the_database(unit_of_work):
    sign_up(unit_of_work)
    phone, laptop, tablet = (log_in(unit_of_work).token for _ in range(3))

    handlers.log_out(unit_of_work=unit_of_work, token=tablet, now=NOW)
    handlers.change_password(
        unit_of_work=unit_of_work,
        passwords=PASSWORDS,
        policy=POLICY,
        token=laptop,
        change=PasswordChange(current_password=PASSWORD, new_password="Zawlbuk thar 2026"),
        now=NOW,
    )

    for ended in (phone, tablet):
        with pytest.raises(Unauthenticated):
            whoami(unit_of_work, ended)
    assert whoami(unit_of_work, laptop).email == "lalremruata@example.org"
    with pytest.raises(Unauthenticated):
        whoami(unit_of_work, laptop, NOW + timedelta(days=14))
    assert log_in(unit_of_work, "Zawlbuk thar 2026").token
