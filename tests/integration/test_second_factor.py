"""Cell staff's second factor (TOTP) on SQLite and PostgreSQL: enrolment, login with a code, replay, recovery codes."""

from datetime import UTC, datetime, timedelta
from functools import partial

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from contracts.accounts import LogIn, SecondFactorCodeGiven, SignUp
from contracts.errors import (
    Conflict,
    Forbidden,
    Invalid,
    SecondFactorEnrolmentRequired,
    SecondFactorRequired,
    TooManyAttempts,
    Unauthenticated,
)
from servicekit.database import UnitOfWork, create_database_engine
from services.registry.accounts import enrolment, handlers
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.accounts.repository import AccountRepository
from services.registry.accounts.second_factor import WRONG_CODE
from services.registry.db import Base, RecoveryCodeRecord

NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)
PASSWORD = "Aizawl secretariat 2026"
CELL_EMAIL = "duty.officer@mizoram.example.org"
POLICY = AccountPolicy()
PASSWORDS = Argon2Passwords.of_profile("fast-for-tests-only")


@pytest.fixture
def unit_of_work(database_url):
    engine = create_database_engine(database_url)
    Base.metadata.create_all(engine)
    yield partial(
        UnitOfWork,
        sessionmaker(engine, expire_on_commit=False),
        Base.metadata,
        repositories={"accounts": AccountRepository},
    )
    engine.dispose()


def sign_up(unit_of_work, email=CELL_EMAIL, *, is_cell_staff=True):
    draft = SignUp(email=email, password=PASSWORD, display_name="Duty officer")
    handlers.sign_up(unit_of_work=unit_of_work, passwords=PASSWORDS, draft=draft, now=NOW, is_cell_staff=is_cell_staff)


def log_in(unit_of_work, code=None, *, now=NOW, email=CELL_EMAIL):
    return handlers.log_in(
        unit_of_work=unit_of_work,
        passwords=PASSWORDS,
        policy=POLICY,
        credentials=LogIn(email=email, password=PASSWORD, code=code),
        client_address="203.0.113.9",
        now=now,
    )


def whoami(unit_of_work, token, now=NOW):
    return handlers.whoami(unit_of_work=unit_of_work, token=token, now=now)


def confirm(unit_of_work, token, code, now=NOW):
    return enrolment.confirm_enrolment(
        unit_of_work=unit_of_work, policy=POLICY, token=token, given=SecondFactorCodeGiven(code=code), now=now
    )


def enrolled(unit_of_work) -> tuple[pyotp.TOTP, list[str]]:
    """A Cell account with its second factor confirmed at NOW: its authenticator and its recovery codes."""
    sign_up(unit_of_work)
    token = log_in(unit_of_work).token
    started = enrolment.start_enrolment(unit_of_work=unit_of_work, token=token, now=NOW)
    app = pyotp.TOTP(started.secret)
    return app, confirm(unit_of_work, token, app.at(NOW)).recovery_codes


def test_a_cell_account_without_a_second_factor_gets_a_session_that_may_only_enrol(unit_of_work):
    sign_up(unit_of_work)
    session = log_in(unit_of_work)

    assert session.must_enrol_second_factor is True
    with pytest.raises(SecondFactorEnrolmentRequired, match="second-factor/enrolment"):
        whoami(unit_of_work, session.token)
    started = enrolment.start_enrolment(unit_of_work=unit_of_work, token=session.token, now=NOW)
    assert started.otpauth_uri.startswith("otpauth://totp/DiasporaHub:duty.officer%40mizoram.example.org?secret=")
    assert "issuer=DiasporaHub" in started.otpauth_uri


def test_enrolment_is_confirmed_by_a_first_code_and_lifts_the_limit_of_that_session(unit_of_work):
    sign_up(unit_of_work)
    token = log_in(unit_of_work).token
    app = pyotp.TOTP(enrolment.start_enrolment(unit_of_work=unit_of_work, token=token, now=NOW).secret)

    with pytest.raises(Invalid, match="code: is not the code"):
        confirm(unit_of_work, token, "000000" if app.at(NOW) != "000000" else "111111")
    codes = confirm(unit_of_work, token, app.at(NOW)).recovery_codes

    assert len(codes) == len(set(codes)) == 10
    assert whoami(unit_of_work, token).is_cell_staff is True
    with pytest.raises(Conflict, match="already set up"):
        enrolment.start_enrolment(unit_of_work=unit_of_work, token=token, now=NOW)


def test_an_enrolled_cell_account_needs_the_code_and_a_wrong_one_is_refused(unit_of_work):
    app, _ = enrolled(unit_of_work)
    later = NOW + STEP

    with pytest.raises(SecondFactorRequired, match="code"):
        log_in(unit_of_work, now=later)
    with pytest.raises(Unauthenticated, match="not right"):
        log_in(unit_of_work, "12345" + str((int(app.at(later)[-1]) + 1) % 10), now=later)
    session = log_in(unit_of_work, app.at(later), now=later)

    assert session.must_enrol_second_factor is False
    assert whoami(unit_of_work, session.token, later).is_cell_staff is True


def test_a_code_is_accepted_once(unit_of_work):
    app, _ = enrolled(unit_of_work)
    later = NOW + STEP
    log_in(unit_of_work, app.at(later), now=later)

    with pytest.raises(Unauthenticated, match="used already"):
        log_in(unit_of_work, app.at(later), now=later + timedelta(seconds=5))
    with pytest.raises(Unauthenticated, match=WRONG_CODE):
        log_in(unit_of_work, app.at(NOW), now=later)  # the enrolment's code, one step back: still within drift


def test_wrong_codes_lock_the_login_like_wrong_passwords(unit_of_work):
    app, _ = enrolled(unit_of_work)
    later = NOW + STEP
    wrong = "000000" if app.at(later) != "000000" else "111111"
    for _ in range(POLICY.account_failure_limit):
        with pytest.raises(Unauthenticated):
            log_in(unit_of_work, wrong, now=later)

    with pytest.raises(TooManyAttempts):
        log_in(unit_of_work, app.at(later), now=later)


def test_a_recovery_code_signs_in_once_and_is_stored_hashed(unit_of_work, database_url):
    _, codes = enrolled(unit_of_work)

    assert log_in(unit_of_work, codes[0].upper()).token
    with pytest.raises(Unauthenticated, match=WRONG_CODE):
        log_in(unit_of_work, codes[0])
    assert log_in(unit_of_work, codes[1].replace("-", " ")).token
    with unit_of_work() as work:
        stored = set(work.session.scalars(select(RecoveryCodeRecord.code_hash)))
    assert len(stored) == 10 and not stored & set(codes)


def test_renewed_recovery_codes_void_the_earlier_ones(unit_of_work):
    app, first_codes = enrolled(unit_of_work)
    later = NOW + STEP
    token = log_in(unit_of_work, app.at(later), now=later).token
    renew = partial(enrolment.renew_recovery_codes, unit_of_work=unit_of_work, policy=POLICY, token=token)

    with pytest.raises(Invalid):
        renew(given=SecondFactorCodeGiven(code=first_codes[0]), now=later)
    with pytest.raises(Invalid):  # the code that opened the session: used already
        renew(given=SecondFactorCodeGiven(code=app.at(later)), now=later)
    new_codes = renew(given=SecondFactorCodeGiven(code=app.at(later + STEP)), now=later + STEP).recovery_codes

    with pytest.raises(Unauthenticated):
        log_in(unit_of_work, first_codes[2], now=later + STEP)
    assert log_in(unit_of_work, new_codes[0], now=later + STEP).token


def test_other_accounts_neither_enrol_nor_need_a_code(unit_of_work):
    sign_up(unit_of_work, "lalremruata@example.org", is_cell_staff=False)
    session = log_in(unit_of_work, "123456", email="lalremruata@example.org")

    assert session.must_enrol_second_factor is False
    with pytest.raises(Forbidden, match="Only Cell staff"):
        enrolment.start_enrolment(unit_of_work=unit_of_work, token=session.token, now=NOW)
