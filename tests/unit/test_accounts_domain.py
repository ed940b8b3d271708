"""Account rules without I/O: e-mail identity, session tokens, the throttle of failed logins, the payloads."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.accounts import LogIn, PasswordChange, SessionToken, SignUp
from contracts.validation import InvalidPayload, parse
from services.registry.accounts import domain
from services.registry.accounts.domain import AccountPolicy, Throttle

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = AccountPolicy()


def failures(count: int, *, limit: int = 5, start: datetime = NOW, every: timedelta = timedelta(seconds=10)):
    throttle = Throttle(key="account:lal@example.org", failures=0, window_started_at=start)
    for attempt in range(count):
        throttle = throttle.after_failure(start + attempt * every, limit=limit, policy=POLICY)
    return throttle


def test_an_email_address_is_one_account_whatever_its_case():
    assert domain.normalized_email("  Lalremruata@Example.ORG ") == "lalremruata@example.org"
    assert domain.account_key("LAL@example.org") == domain.account_key("lal@EXAMPLE.org")


def test_a_session_keeps_only_the_sha256_of_its_token_and_ends_after_the_policy_lifetime():
    account_id = uuid4()

    token, session = domain.open_session(account_id=account_id, now=NOW, policy=AccountPolicy())

    assert len(token) >= 43
    assert session.token_hash == domain.token_hash(token) != token
    assert len(session.token_hash) == 64
    assert session.account_id == account_id
    assert session.expires_at == NOW + timedelta(days=14)
    assert session.revoked_at is None


def test_two_sessions_never_share_a_token():
    tokens = {domain.open_session(account_id=uuid4(), now=NOW, policy=POLICY)[0] for _ in range(100)}

    assert len(tokens) == 100


def test_four_failures_do_not_lock_and_the_fifth_locks_for_the_lock_duration():
    assert not failures(4).is_locked(NOW + timedelta(minutes=1))

    locked = failures(5)

    assert locked.is_locked(NOW + timedelta(minutes=1))
    assert locked.locked_until == NOW + 4 * timedelta(seconds=10) + timedelta(minutes=15)


def test_a_lock_lifts_when_its_time_is_up():
    locked = failures(5)
    lifted_at = locked.locked_until

    assert locked.is_locked(lifted_at - timedelta(seconds=1))
    assert not locked.is_locked(lifted_at)


def test_each_failure_soon_after_a_lock_lifts_locks_again_for_twice_as_long():
    locked = failures(5)
    delays = []
    for _ in range(4):
        lifted_at = locked.locked_until
        locked = locked.after_failure(lifted_at + timedelta(seconds=5), limit=5, policy=POLICY)
        delays.append(locked.locked_until - (lifted_at + timedelta(seconds=5)))

    assert delays == [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(hours=4)]


def test_growing_locks_stop_at_the_longest_lock():
    locked = failures(5)
    for _ in range(12):
        locked = locked.after_failure(locked.locked_until, limit=5, policy=POLICY)

    assert locked.after_failure(locked.locked_until, limit=5, policy=POLICY).locked_until - locked.locked_until == (
        POLICY.longest_lock
    )


def test_a_quiet_window_after_a_lock_lifted_starts_counting_afresh():
    locked = failures(5)

    after = locked.after_failure(locked.locked_until + POLICY.failure_window, limit=5, policy=POLICY)

    assert (after.failures, after.locked_until) == (1, None)


def test_failures_spread_wider_than_the_window_never_lock():
    spread = failures(10, every=timedelta(minutes=4))

    assert not spread.is_locked(NOW + timedelta(minutes=40))
    assert spread.failures < 5


def test_a_failure_while_locked_does_not_extend_the_lock():
    locked = failures(5)

    assert locked.after_failure(NOW + timedelta(minutes=2), limit=5, policy=POLICY) == locked


def test_a_login_counts_against_the_account_from_this_address_and_the_address_each_with_its_limit():
    limits = domain.throttle_limits(email="Lal@Example.org", client_address="203.0.113.7", policy=POLICY)

    assert limits == {"login:lal@example.org from 203.0.113.7": 5, "address:203.0.113.7": 20}
    assert domain.throttle_limits(email="lal@example.org", client_address=None, policy=POLICY) == {
        "login:lal@example.org from an unknown address": 5
    }


def test_the_lock_message_says_when_to_try_again_and_names_no_key():
    locked = failures(5)

    message = domain.lock_message([locked], NOW + timedelta(minutes=1))

    assert message == "Too many failed sign-in attempts. Try again in 15 minutes."
    assert domain.lock_message([failures(4)], NOW) is None
    assert domain.lock_message([locked], locked.locked_until - timedelta(seconds=30)).endswith("in 1 minute.")


def test_a_password_under_twelve_characters_is_refused_with_a_clear_message():
    with pytest.raises(InvalidPayload) as refused:
        parse(SignUp, {"email": "lal@example.org", "password": "elevenchars", "display_name": "Lal"})

    assert str(refused.value) == "password: must be at least 12 characters long"
    assert parse(SignUp, {"email": "lal@example.org", "password": "twelve chars", "display_name": "Lal"})


def test_a_new_password_under_twelve_characters_is_refused_too():
    with pytest.raises(InvalidPayload, match="new_password: must be at least 12 characters long"):
        parse(PasswordChange, {"current_password": "whatever it was", "new_password": "short"})


def test_passwords_and_tokens_never_show_in_a_payload_repr():
    payloads = [
        SignUp(email="lal@example.org", password="secret password 1", display_name="Lal"),
        LogIn(email="lal@example.org", password="secret password 1"),
        PasswordChange(current_password="secret password 1", new_password="secret password 2"),
        SessionToken(token="secret-token-value", expires_at=NOW),
    ]

    for payload in payloads:
        assert "secret" not in repr(payload)


def test_an_account_repr_never_shows_its_password_hash():
    account = domain.new_account(email="Lal@Example.org", display_name="Lal", password_hash="$argon2id$x", now=NOW)

    assert "argon2" not in repr(account)
    assert account.email == "lal@example.org"
    assert "password" not in account.public().model_dump()


@pytest.mark.parametrize("password", ["justinbieber", "Qwerty123456", "  1q2w3e4r5t6y  ", "leavemealone"])
def test_one_of_the_ten_thousand_most_common_passwords_is_refused(password):
    assert "most common passwords" in domain.password_problem(password, "someone@example.org")


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("lalremruata@example.org", "Lalremruata 2025!"),
        ("lal.remruata@example.org", "my name is remruata, hello"),
        ("Zoram@example.org", "zo-ram forever and ever"),
    ],
)
def test_a_password_containing_the_email_addresss_name_is_refused(email, password):
    assert "e-mail address's name" in domain.password_problem(password, email)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("lalremruata@example.org", "Thingtlang ram 2025"),
        ("cell-ab12cd34@mizoram.gov.in", "a long Cell staff password"),  # "cell" alone is too common a part
        ("li@example.org", "lightly salted pumpkins"),
        ("cell@mizoram.example.org", "Mizoram Cell 2026"),
    ],
)
def test_an_uncommon_password_without_the_email_addresss_name_is_accepted(email, password):
    assert domain.password_problem(password, email) is None


def test_the_shipped_list_holds_ten_thousand_passwords():
    from services.registry.accounts.common_passwords import common_passwords

    assert len(common_passwords()) == 10_000
