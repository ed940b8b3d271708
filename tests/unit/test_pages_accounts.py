"""The account pages wired to a registry worker whose accounts live in memory: what a person sees after each form."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from contracts.errors import SecondFactorRequired
from gateway.auth import SESSION_COOKIE, PrincipalCache, principal_cache
from gateway.pages.accounts import AccountPages
from gateway.pages.rendering import PAGE_HEADERS
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.passwords import Argon2Passwords
from tests.accounts_fakes import InMemoryAccountStore
from tests.unit.test_accounts_service import AccountService

PASSWORD = "Thingtlang ram 2025"


class AccountPagesGateway(AccountPages):
    """The account pages of GatewayService, composed the same way."""

    name = "gateway"
    registry = TimedRpcProxy("registry")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)


class CellStaffRegistry:
    """A registry whose only account is Cell staff with an authenticator app, and no code was sent."""

    def log_in(self, credentials: dict, client_address: str | None) -> dict:
        raise SecondFactorRequired("Enter the code from your authenticator app.")


@pytest.fixture
def pages():
    registry = worker_factory(
        AccountService,
        unit_of_work=InMemoryAccountStore(),
        passwords=Argon2Passwords.of_profile("fast-for-tests-only"),
        account_policy=AccountPolicy(),
        clock=lambda: datetime.now(UTC),
    )
    return worker_factory(
        AccountPagesGateway, registry=registry, settings=GatewaySettings(), principals=PrincipalCache(5)
    )


def browser_request(path: str = "/signup"):
    return EnvironBuilder(method="POST", path=path, environ_base={"REMOTE_ADDR": "192.0.2.10"}).get_request()


def signed_up(pages) -> None:
    form = MultiDict({"email": "mami@example.org", "password": PASSWORD, "display_name": "Mami"})
    assert pages.sign_up_form(browser_request(), form).status_code == 303


def test_signing_up_signs_in_with_an_http_only_cookie_and_goes_to_the_account(pages):
    form = MultiDict({"email": "mami@example.org", "password": PASSWORD, "display_name": "Mami"})

    answer = pages.sign_up_form(browser_request(), form)

    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    cookie = next(value for value in answer.headers.getlist("Set-Cookie") if value.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert answer.headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]


def test_a_short_password_is_shown_next_to_its_field_and_the_other_values_are_kept(pages):
    form = MultiDict({"email": "mami@example.org", "password": "short", "display_name": "Mami"})

    answer = pages.sign_up_form(browser_request(), form)
    html = answer.get_data(as_text=True)

    assert answer.status_code == 422
    assert 'id="password-problem"' in html and "at least 12 characters" in html
    assert 'value="mami@example.org"' in html and PASSWORD not in html


def test_a_taken_address_is_said_above_the_form(pages):
    signed_up(pages)
    form = MultiDict({"email": "mami@example.org", "password": PASSWORD, "display_name": "Mami"})

    answer = pages.sign_up_form(browser_request(), form)

    assert answer.status_code == 409 and 'role="alert"' in answer.get_data(as_text=True)


def test_a_wrong_password_gives_the_form_again_without_a_session(pages):
    signed_up(pages)
    form = MultiDict({"email": "mami@example.org", "password": "not the password at all", "next": "/profile"})

    answer = pages.log_in_form(browser_request("/login"), form)

    assert answer.status_code == 401
    assert not any(value.startswith(SESSION_COOKIE) for value in answer.headers.getlist("Set-Cookie"))
    assert 'name="next" value="/profile"' in answer.get_data(as_text=True)


def test_logging_in_goes_back_to_the_page_asked_for_but_never_to_another_site(pages):
    signed_up(pages)
    credentials = {"email": "mami@example.org", "password": PASSWORD}

    back = pages.log_in_form(browser_request("/login"), MultiDict(credentials | {"next": "/profile"}))
    away = pages.log_in_form(browser_request("/login"), MultiDict(credentials | {"next": "https://evil.example/"}))

    assert back.headers["Location"] == "/profile" and away.headers["Location"] == "/account"


def test_the_login_form_asks_for_the_code_when_the_registry_wants_the_second_factor():
    pages = worker_factory(
        AccountPagesGateway, registry=CellStaffRegistry(), settings=GatewaySettings(), principals=PrincipalCache(5)
    )
    form = MultiDict({"email": "cell@mizoram.gov.in", "password": "a long Cell staff password"})

    answer = pages.log_in_form(browser_request("/login"), form)
    html = answer.get_data(as_text=True)

    assert answer.status_code == 401
    assert 'name="code"' in html and 'autocomplete="one-time-code"' in html
    assert "Enter the code from your authenticator app." in html


def signed_in_request(pages, path: str):
    """A POST to `path` from a browser holding the session cookie that logging in set."""
    credentials = MultiDict({"email": "mami@example.org", "password": PASSWORD, "next": "/account"})
    login = pages.log_in_form(browser_request("/login"), credentials)
    cookie = next(value for value in login.headers.getlist("Set-Cookie") if value.startswith(SESSION_COOKIE))
    builder = EnvironBuilder(method="POST", path=path, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    builder.headers["Cookie"] = cookie.split(";")[0]
    return builder.get_request()


def test_a_password_change_shows_a_refusal_on_the_account_page_and_a_success_after_it(pages):
    signed_up(pages)
    new_password = "Ramthar zin 2026 kan tan"

    refused = pages.change_password_form(
        signed_in_request(pages, "/account/password"),
        MultiDict({"current_password": "not the password at all", "new_password": new_password}),
    )
    changed = pages.change_password_form(
        signed_in_request(pages, "/account/password"),
        MultiDict({"current_password": PASSWORD, "new_password": new_password}),
    )

    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert "Signed in as Mami" in refused.get_data(as_text=True)
    assert changed.status_code == 303 and changed.headers["Location"] == "/account?done=password"
