"""Accounts over HTTP through the gateway and the registry: sign-up, login, me, logout, password change, throttling.

Failed logins here come from 127.0.0.1 unless the system trusts X-Forwarded-For, and 20 of them within
15 minutes would lock that address for every later test: the tests below fail 8 logins in all from it.
"""

import os
import subprocess
import sys
import uuid

import pytest
import requests
from sqlalchemy import create_engine, select

from services.registry.db import LoginThrottleRecord

PASSWORD = "Thingtlang ram 2025"


def new_email() -> str:
    return f"lal.{uuid.uuid4().hex[:10]}@example.org"


def forwarded_for() -> dict[str, str]:
    """A made-up client address (honoured only when the gateway trusts X-Forwarded-For)."""
    return {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}


def sign_up(api: str, email: str, password: str = PASSWORD) -> requests.Response:
    body = {"email": email, "password": password, "display_name": "Lalremruata"}
    return requests.post(f"{api}/api/v1/auth/signup", json=body, timeout=5)


def log_in(api: str, email: str, password: str = PASSWORD, headers=None) -> requests.Response:
    return requests.post(
        f"{api}/api/v1/auth/login", json={"email": email, "password": password}, headers=headers, timeout=5
    )


def me(api: str, token: str) -> requests.Response:
    return requests.get(f"{api}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)


@pytest.fixture
def account(api) -> str:
    email = new_email()
    assert sign_up(api, email).status_code == 201
    return email


def test_sign_up_answers_the_account_without_its_password_or_hash(api):
    email = new_email()

    answer = sign_up(api, email.upper())

    assert answer.status_code == 201, answer.text
    assert answer.json()["email"] == email
    assert answer.json()["display_name"] == "Lalremruata"
    assert {"id", "email", "display_name"} <= set(answer.json())
    assert "password" not in answer.text
    assert "argon2" not in answer.text


def test_sign_up_counts_against_the_client_address(api, registry_database_url):
    address = forwarded_for()
    body = {"email": new_email(), "password": PASSWORD, "display_name": "Lalremruata"}
    assert requests.post(f"{api}/api/v1/auth/signup", json=body, headers=address, timeout=5).status_code == 201

    engine = create_engine(registry_database_url)
    try:
        with engine.connect() as connection:
            counted = connection.execute(
                select(LoginThrottleRecord.failures).where(
                    LoginThrottleRecord.key == f"sign-up:{address['X-Forwarded-For']}"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert counted >= 1


def test_a_password_under_twelve_characters_is_refused_with_a_clear_message(api):
    answer = sign_up(api, new_email(), password="eleven char")

    assert answer.status_code == 422
    assert answer.json()["message"] == "password: must be at least 12 characters long"


def test_a_second_sign_up_with_the_same_email_in_another_case_is_409(api, account):
    answer = sign_up(api, account.upper())

    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"


def test_login_answers_a_token_and_sets_an_http_only_lax_cookie_that_me_accepts(api, account):
    answer = log_in(api, account)

    assert answer.status_code == 200, answer.text
    assert answer.json().keys() == {"token", "expires_at", "must_enrol_second_factor"}
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    by_cookie = requests.get(f"{api}/api/v1/me", cookies=answer.cookies, timeout=5)
    by_bearer = me(api, answer.json()["token"])
    assert by_cookie.status_code == by_bearer.status_code == 200
    assert by_cookie.json() == by_bearer.json()
    assert by_bearer.json()["email"] == account
    assert by_bearer.json()["is_cell_staff"] is False


def test_the_cookie_is_secure_behind_an_https_proxy(api, account):
    answer = log_in(api, account, headers={"X-Forwarded-Proto": "https"})

    assert "Secure" in answer.headers["Set-Cookie"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(api, account):
    wrong = log_in(api, account, "not the password", headers=forwarded_for())
    unknown = log_in(api, new_email(), headers=forwarded_for())

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "Set-Cookie" not in wrong.headers


def test_me_without_a_session_is_401(api):
    assert requests.get(f"{api}/api/v1/me", timeout=5).status_code == 401
    assert me(api, "made-up-token").status_code == 401


def test_logout_revokes_the_session_and_clears_the_cookie(api, account):
    token = log_in(api, account).json()["token"]

    answer = requests.post(f"{api}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=5)

    assert answer.status_code == 204
    assert "diasporahub_session=;" in answer.headers["Set-Cookie"]
    assert me(api, token).status_code == 401


def test_changing_the_password_ends_the_other_sessions_and_the_old_password(api, account):
    phone = log_in(api, account).json()["token"]
    laptop = log_in(api, account).json()["token"]

    answer = requests.post(
        f"{api}/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"},
        headers={"Authorization": f"Bearer {laptop}"},
        timeout=5,
    )

    assert answer.status_code == 204, answer.text
    assert me(api, phone).status_code == 401
    assert me(api, laptop).status_code == 200
    assert log_in(api, account, headers=forwarded_for()).status_code == 401
    assert log_in(api, account, "Zawlbuk thar 2026").status_code == 200


def test_five_failed_logins_lock_the_account_from_that_address_with_429_even_for_the_right_password(api, account):
    address = forwarded_for()
    for _ in range(5):
        assert log_in(api, account, "not the password", headers=address).status_code == 401

    locked = log_in(api, account, headers=address)

    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_attempts"
    assert "Try again in 15 minutes" in locked.json()["message"]


def test_failed_logins_from_another_address_do_not_lock_the_owner_out(api, account):
    attacker = forwarded_for()
    for _ in range(6):
        log_in(api, account, "not the password", headers=attacker)
    assert log_in(api, account, headers=attacker).status_code == 429

    owner = {"X-Forwarded-For": "192.0.2.200"}  # outside forwarded_for()'s range
    assert log_in(api, account, headers=owner).status_code == 200


def test_twenty_failed_logins_from_one_address_lock_that_address(api, account):
    address = forwarded_for()
    for _ in range(20):
        log_in(api, new_email(), "not the password", headers=address)

    assert log_in(api, account, headers=address).status_code == 429
    assert log_in(api, account, headers=forwarded_for()).status_code == 200


def test_admin_create_makes_a_cell_staff_account_that_signs_in_to_enrol_its_second_factor(api, system):
    email = new_email()
    created = subprocess.run(
        [sys.executable, "-m", "diasporahub.admin", "create", "--email", email],
        input=f"{PASSWORD}\n",
        env=os.environ | system.env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert created.returncode == 0, created.stderr
    assert "POST /api/v1/auth/second-factor/enrolment" in created.stdout
    session = log_in(api, email).json()
    assert session["must_enrol_second_factor"] is True
    refused = me(api, session["token"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "second_factor_enrolment_required"


def test_admin_create_has_no_password_argument(system):
    refused = subprocess.run(
        [sys.executable, "-m", "diasporahub.admin", "create", "--email", new_email(), "--password", PASSWORD],
        env=os.environ | system.env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode == 2
    assert "there is no password option" in refused.stderr


def test_an_account_without_a_profile_exports_and_deletes_itself_with_its_password(api, account):
    token = log_in(api, account).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    exported = requests.get(f"{api}/api/v1/me/export", headers=headers, timeout=5)
    assert exported.status_code == 200
    assert exported.json()["account"]["email"] == account
    assert exported.json()["profile"] is None
    assert exported.headers["Cache-Control"] == "no-store"

    refused = requests.delete(f"{api}/api/v1/me", json={"password": "not my password"}, headers=headers, timeout=5)
    assert refused.status_code == 422
    assert me(api, token).status_code == 200
    assert requests.delete(f"{api}/api/v1/me", headers=headers, timeout=5).status_code in (400, 415, 422)

    deleted = requests.delete(f"{api}/api/v1/me", json={"password": PASSWORD}, headers=headers, timeout=5)
    assert deleted.status_code == 204
    assert me(api, token).status_code == 401
    assert log_in(api, account).status_code == 401
