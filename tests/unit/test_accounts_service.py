"""The registry's account RPCs with nameko's worker_factory: accounts in memory, a clock the test moves."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from nameko.testing.services import worker_factory

from contracts.accounts import Principal
from contracts.errors import Conflict, Invalid, TooManyAttempts, Unauthenticated
from servicekit.database import Database
from services.registry.accounts.domain import WRONG_CREDENTIALS, AccountPolicy, token_hash
from services.registry.accounts.entrypoints import AccountEntrypoints
from services.registry.accounts.passwords import Argon2Passwords
from services.registry.accounts.repository import AccountRepository
from services.registry.db import Base
from services.registry.settings import RegistrySettings
from tests.accounts_fakes import InMemoryAccountStore

PASSWORD = "Thingtlang ram 2025"
ADDRESS = "203.0.113.7"


class AccountService(AccountEntrypoints):
    """The account part of RegistryService, composed the same way."""

    name = "registry"
    unit_of_work = Database(RegistrySettings, Base.metadata, repositories={"accounts": AccountRepository})


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **elapsed: float) -> None:
        self.now += timedelta(**elapsed)


def fast_passwords() -> Argon2Passwords:
    """Still argon2id, with the smallest parameters, so that the suite stays quick."""
    return Argon2Passwords.of_profile("fast-for-tests-only")


@pytest.fixture
def store() -> InMemoryAccountStore:
    return InMemoryAccountStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def service(store, clock):
    return worker_factory(
        AccountService,
        unit_of_work=store,
        passwords=fast_passwords(),
        account_policy=AccountPolicy(session_lifetime=timedelta(days=14)),
        clock=clock,
    )


def sign_up(service, email: str = "lalremruata@example.org", password: str = PASSWORD) -> dict:
    return service.sign_up({"email": email, "password": password, "display_name": "Lalremruata"})


def log_in(service, email: str = "lalremruata@example.org", password: str = PASSWORD, address=ADDRESS) -> dict:
    return service.log_in({"email": email, "password": password}, address)


def wrong_password(service, email: str = "lalremruata@example.org", address=ADDRESS) -> Exception:
    with pytest.raises((Unauthenticated, TooManyAttempts)) as refused:
        log_in(service, email, "not the password at all", address)
    return refused.value


def test_signing_up_returns_the_account_without_its_password_or_hash(service, store):
    account = sign_up(service, email="Lalremruata@Example.org")

    assert set(account) == {"id", "email", "display_name", "is_cell_staff", "created_at"}
    assert account["email"] == "lalremruata@example.org"
    assert account["is_cell_staff"] is False
    [stored] = store.accounts.values()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_a_password_under_twelve_characters_is_refused_and_nothing_is_stored(service, store):
    with pytest.raises(Invalid, match="password: must be at least 12 characters long"):
        sign_up(service, password="short pass")

    assert store.accounts == {}


def test_an_email_already_signed_up_is_a_conflict_whatever_its_case(service, store):
    sign_up(service, email="lalremruata@example.org")

    with pytest.raises(Conflict, match="already exists") as refused:
        sign_up(service, email="LalRemruata@EXAMPLE.org")
    assert len(store.accounts) == 1
    assert "example.org" not in str(refused.value)  # the answer is logged: it names no address


def test_logging_in_gives_a_token_that_says_who_it_belongs_to(service, store, clock):
    account = sign_up(service)

    session = log_in(service)

    assert session["expires_at"] == (clock.now + timedelta(days=14)).isoformat().replace("+00:00", "Z")
    principal = Principal.model_validate(service.whoami(session["token"]))
    assert str(principal.account_id) == account["id"]
    assert principal.email == "lalremruata@example.org"
    assert principal.is_cell_staff is False
    assert session["token"] not in store.sessions
    assert token_hash(session["token"]) in store.sessions


def test_the_email_is_matched_whatever_its_case_at_login(service):
    sign_up(service)

    assert log_in(service, email="LALREMRUATA@example.org")["token"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(service):
    sign_up(service)

    wrong = wrong_password(service)
    unknown = wrong_password(service, email="nobody@example.org")

    assert type(wrong) is type(unknown) is Unauthenticated
    assert wrong.message == unknown.message == WRONG_CREDENTIALS


def test_five_failures_lock_the_account_from_that_address_even_against_the_right_password(service):
    sign_up(service)
    for _ in range(5):
        assert isinstance(wrong_password(service), Unauthenticated)

    with pytest.raises(TooManyAttempts, match="Try again in 15 minutes"):
        log_in(service)


def test_failed_logins_from_elsewhere_never_lock_the_owner_out_of_their_own_address(service):
    sign_up(service)
    for attacker in range(10):
        for _ in range(6):
            wrong_password(service, address=f"198.51.100.{attacker}")

    assert isinstance(wrong_password(service, address="198.51.100.0"), TooManyAttempts)
    assert log_in(service, address=ADDRESS)["token"]


def test_failing_again_after_a_lock_lifts_locks_for_longer_each_time(service, clock):
    sign_up(service)
    for _ in range(5):
        wrong_password(service)
    clock.advance(minutes=15)
    wrong_password(service)

    with pytest.raises(TooManyAttempts, match="Try again in 30 minutes"):
        log_in(service)
    clock.advance(minutes=30)
    wrong_password(service)
    with pytest.raises(TooManyAttempts, match="Try again in 60 minutes"):
        log_in(service)


def test_sign_ups_from_one_address_are_throttled_before_any_password_is_hashed(service, store):
    for attempt in range(AccountPolicy().sign_up_limit):
        service.sign_up({"email": f"new{attempt}@example.org", "password": PASSWORD, "display_name": "Lal"}, ADDRESS)
    service.passwords = None  # a refused sign-up must not reach the hasher

    with pytest.raises(TooManyAttempts, match="Try again in 15 minutes"):
        service.sign_up({"email": "one.more@example.org", "password": PASSWORD, "display_name": "Lal"}, ADDRESS)
    with pytest.raises(TooManyAttempts):  # a sign-up that would be a conflict counts too
        service.sign_up({"email": "new0@example.org", "password": PASSWORD, "display_name": "Lal"}, ADDRESS)
    assert "one.more@example.org" not in {account.email for account in store.accounts.values()}


def test_sign_ups_from_another_address_are_not_held_up(service):
    for attempt in range(AccountPolicy().sign_up_limit):
        service.sign_up({"email": f"new{attempt}@example.org", "password": PASSWORD, "display_name": "Lal"}, ADDRESS)

    assert (
        service.sign_up(
            {"email": "elsewhere@example.org", "password": PASSWORD, "display_name": "Lal"}, "198.51.100.9"
        )["email"]
        == "elsewhere@example.org"
    )


def test_a_locked_unknown_email_answers_exactly_as_a_locked_account(service):
    sign_up(service)
    for email in ("lalremruata@example.org", "nobody@example.org"):
        for _ in range(5):
            wrong_password(service, email=email)

    existing = wrong_password(service, email="lalremruata@example.org")
    missing = wrong_password(service, email="nobody@example.org")

    assert type(existing) is type(missing) is TooManyAttempts
    assert existing.message == missing.message


def test_the_account_lock_lifts_after_fifteen_minutes(service, clock):
    sign_up(service)
    for _ in range(5):
        wrong_password(service)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(TooManyAttempts, match="1 minute"):
        log_in(service)

    clock.advance(seconds=1)

    assert log_in(service)["token"]


def test_a_successful_login_clears_the_account_counter(service, store):
    sign_up(service)
    for _ in range(4):
        wrong_password(service)

    log_in(service)

    assert "login:lalremruata@example.org from 203.0.113.7" not in store.throttles
    for _ in range(4):
        assert isinstance(wrong_password(service), Unauthenticated)


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(service, clock):
    sign_up(service)
    for attempt in range(20):
        wrong_password(service, email=f"guess{attempt}@example.org")

    with pytest.raises(TooManyAttempts):
        log_in(service)
    assert log_in(service, address="198.51.100.9")["token"]
    clock.advance(minutes=15)
    assert log_in(service)["token"]


def test_failures_spread_over_more_than_the_window_do_not_lock(service, clock):
    sign_up(service)
    for _ in range(8):
        wrong_password(service)
        clock.advance(minutes=4)

    assert log_in(service)["token"]


def test_without_a_client_address_only_the_account_from_an_unknown_address_is_counted(service, store):
    sign_up(service)

    wrong_password(service, address=None)

    assert set(store.throttles) == {"login:lalremruata@example.org from an unknown address"}


def test_logging_out_ends_the_session_and_only_that_one(service):
    sign_up(service)
    first, second = log_in(service)["token"], log_in(service)["token"]

    service.log_out(first)

    with pytest.raises(Unauthenticated, match="Sign in first"):
        service.whoami(first)
    assert service.whoami(second)["email"] == "lalremruata@example.org"


def test_logging_out_twice_or_without_a_session_changes_nothing(service):
    sign_up(service)
    token = log_in(service)["token"]
    service.log_out(token)

    service.log_out(token)
    service.log_out("not-a-token")
    service.log_out(None)


def test_an_expired_token_is_refused_even_when_used_all_along(service, clock):
    sign_up(service)
    token = log_in(service)["token"]
    for _ in range(13 * 24 + 23):
        clock.advance(hours=1)
        assert service.whoami(token)

    clock.advance(hours=1)

    with pytest.raises(Unauthenticated):
        service.whoami(token)


def test_a_session_left_unused_for_the_idle_timeout_ends(service, clock):
    sign_up(service)
    used, unused = log_in(service)["token"], log_in(service)["token"]
    for _ in range(3):
        clock.advance(hours=1, minutes=59)
        assert service.whoami(used)

    with pytest.raises(Unauthenticated, match="Sign in first"):
        service.whoami(unused)


def test_cell_staff_sessions_are_shorter_and_end_sooner_when_unused(service, store, clock):
    sign_up(service, "cell@mizoram.gov.in")
    account = next(iter(store.accounts.values()))
    store.accounts[account.id] = replace(account, is_cell_staff=True)
    used, unused = log_in(service, "cell@mizoram.gov.in")["token"], log_in(service, "cell@mizoram.gov.in")["token"]
    clock.advance(minutes=29)
    assert service.whoami(used)

    clock.advance(minutes=2)
    with pytest.raises(Unauthenticated):
        service.whoami(unused)
    assert service.whoami(used)
    for _ in range(16):
        clock.advance(minutes=28)
        assert service.whoami(used)
    clock.advance(minutes=2)  # 8 hours and a minute after login, used a minute ago
    with pytest.raises(Unauthenticated):
        service.whoami(used)


@pytest.mark.parametrize("token", [None, "", "made-up-token"])
def test_no_token_or_an_unknown_one_is_refused(service, token):
    with pytest.raises(Unauthenticated, match="Sign in first"):
        service.whoami(token)


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(service):
    sign_up(service)
    phone, laptop = log_in(service)["token"], log_in(service)["token"]

    service.change_password(laptop, {"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"})

    with pytest.raises(Unauthenticated):
        service.whoami(phone)
    assert service.whoami(laptop)
    with pytest.raises(Unauthenticated, match=WRONG_CREDENTIALS):
        log_in(service)
    assert log_in(service, password="Zawlbuk thar 2026")["token"]


def test_changing_the_password_needs_the_current_one_and_counts_failures(service):
    sign_up(service)
    token = log_in(service)["token"]
    for _ in range(5):
        with pytest.raises(Invalid, match="current_password"):
            service.change_password(token, {"current_password": "a wrong guess!", "new_password": "Zawlbuk thar 2026"})

    with pytest.raises(TooManyAttempts):
        service.change_password(token, {"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"})
    assert service.whoami(token)


def test_changing_the_password_needs_a_session_and_a_long_enough_new_one(service):
    sign_up(service)
    token = log_in(service)["token"]

    with pytest.raises(Unauthenticated):
        service.change_password("made-up-token", {"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"})
    with pytest.raises(Invalid, match="new_password: must be at least 12"):
        service.change_password(token, {"current_password": PASSWORD, "new_password": "too short"})


def test_the_session_lifetime_comes_from_the_policy(store, clock):
    service = worker_factory(
        AccountService,
        unit_of_work=store,
        passwords=fast_passwords(),
        account_policy=AccountPolicy(session_lifetime=timedelta(days=1)),
        clock=clock,
    )
    sign_up(service)
    token = log_in(service)["token"]

    clock.advance(days=1)

    with pytest.raises(Unauthenticated):
        service.whoami(token)


def test_the_session_lifetime_setting_defaults_to_fourteen_days(monkeypatch):
    from services.registry.accounts.entrypoints import account_policy_from_settings

    monkeypatch.delenv("REGISTRY_SESSION_DAYS", raising=False)
    assert account_policy_from_settings().session_lifetime == timedelta(days=14)
    monkeypatch.setenv("REGISTRY_SESSION_DAYS", "3")
    assert account_policy_from_settings().session_lifetime == timedelta(days=3)


def test_no_token_password_or_hash_is_ever_logged(service, store, caplog):
    caplog.set_level("DEBUG")
    sign_up(service)
    token = log_in(service)["token"]
    wrong_password(service)
    service.change_password(token, {"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"})
    service.log_out(token)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    [account] = store.accounts.values()
    for secret in (token, token_hash(token), PASSWORD, "Zawlbuk thar 2026", account.password_hash, "argon2"):
        assert secret not in logged
    assert "opened a session" in logged


def test_the_registry_service_serves_the_account_entrypoints_with_the_account_repository():
    from services.registry.service import RegistryService

    assert issubclass(RegistryService, AccountEntrypoints)
    assert RegistryService.unit_of_work.repositories["accounts"] is AccountRepository


def test_a_hash_with_weaker_parameters_is_upgraded_at_the_next_login(service, store, clock):
    sign_up(service)
    stronger = worker_factory(
        AccountService,
        unit_of_work=store,
        passwords=Argon2Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)),
        account_policy=AccountPolicy(),
        clock=clock,
    )

    log_in(stronger)

    [account] = store.accounts.values()
    assert "$m=16,t=2,p=1$" in account.password_hash
    assert log_in(stronger)["token"]


def test_the_hourly_pruning_drops_expired_sessions_and_lapsed_throttles(service, store, clock):
    sign_up(service)
    log_in(service)
    wrong_password(service, email="someone.else@example.org")
    assert len(store.sessions) == 1
    assert len(store.throttles) == 2
    clock.advance(days=15)

    service.prune_stale_sessions_and_throttles()

    assert store.sessions == {}
    assert store.throttles == {}


def test_a_common_password_or_one_with_the_emails_name_is_refused_at_sign_up_and_change(service, store):
    with pytest.raises(Invalid, match="most common passwords"):
        sign_up(service, password="qwerty123456")
    with pytest.raises(Invalid, match="e-mail address's name"):
        sign_up(service, password="Lalremruata was here")
    assert store.accounts == {}

    sign_up(service)
    token = log_in(service)["token"]
    with pytest.raises(Invalid, match="new_password: contains your e-mail address's name"):
        service.change_password(token, {"current_password": PASSWORD, "new_password": "I am lalremruata, 2026"})
