"""The gateway's auth routes and helpers, wired to a registry worker whose accounts live in memory."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory
from werkzeug.http import parse_cookie
from werkzeug.test import EnvironBuilder

from gateway.auth import SESSION_COOKIE, principal_cache, principal_of, session_token_of
from gateway.errors import error_response
from gateway.routes.auth import AuthRoutes
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.passwords import Argon2Passwords
from tests.accounts_fakes import InMemoryAccountStore
from tests.unit.test_accounts_service import AccountService


class AuthGateway(AuthRoutes):
    """The auth part of GatewayService, composed the same way."""

    name = "gateway"
    registry = TimedRpcProxy("registry")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)


PASSWORD = "Thingtlang ram 2025"
CREDENTIALS = {"email": "lalremruata@example.org", "password": PASSWORD}


@pytest.fixture
def store() -> InMemoryAccountStore:
    return InMemoryAccountStore()


@pytest.fixture
def gateway(store):
    registry = worker_factory(
        AccountService,
        unit_of_work=store,
        passwords=Argon2Passwords.of_profile("fast-for-tests-only"),
        account_policy=AccountPolicy(),
        clock=lambda: datetime.now(UTC),
    )
    return worker_factory(AuthGateway, registry=registry, settings=GatewaySettings(), principals=principal_cache())


def request(method="POST", path="/", *, body=None, token=None, cookie=None, headers=None, https=False):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    return EnvironBuilder(
        method=method,
        path=path,
        base_url="https://hub.example.org/" if https else "http://hub.example.org/",
        data=None if body is None else json.dumps(body),
        content_type="application/json",
        headers=headers,
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    ).get_request()


def respond(route, http_request):
    """As the `api` entrypoint answers: the request parsed as the route declares, the route's result, or its
    error through the gateway's one table."""
    [endpoint] = route.nameko_entrypoints
    http_request.path_values = {}
    try:
        args, kwargs = endpoint.get_entrypoint_parameters(http_request)
        result = route(*args, **kwargs)
    except Exception as exc:
        return error_response(exc)
    return endpoint.response_from_result(result)


def body(response) -> dict:
    return json.loads(response.get_data(as_text=True))


def session_cookie(response) -> tuple[str, str]:
    [header] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(SESSION_COOKIE)]
    return header, parse_cookie(header)[SESSION_COOKIE]


def signed_up_and_logged_in(gateway, **login_options) -> tuple[str, object]:
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))
    response = respond(gateway.log_in, request(body=CREDENTIALS, **login_options))
    return body(response)["token"], response


def test_sign_up_is_201_with_the_account_and_never_the_password_or_hash(gateway):
    response = respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))

    assert response.status_code == 201
    assert set(body(response)) == {"id", "email", "display_name", "is_cell_staff", "created_at"}
    assert "argon2" not in response.get_data(as_text=True)


def test_sign_up_with_a_short_password_is_422_with_the_reason(gateway):
    response = respond(gateway.sign_up, request(body={**CREDENTIALS, "password": "short", "display_name": "Lal"}))

    assert response.status_code == 422
    assert body(response)["message"] == "password: must be at least 12 characters long"


def test_sign_up_counts_against_the_client_address(gateway, store):
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))

    assert store.throttles["sign-up:192.0.2.10"].failures == 1


def test_a_duplicate_email_is_409(gateway):
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))

    response = respond(
        gateway.sign_up, request(body={**CREDENTIALS, "email": "LALREMRUATA@example.org"} | {"display_name": "Lal"})
    )

    assert response.status_code == 409


def test_login_answers_the_token_and_sets_an_http_only_lax_cookie_not_secure_over_http(gateway):
    token, response = signed_up_and_logged_in(gateway)

    assert response.status_code == 200
    assert set(body(response)) == {"token", "expires_at", "must_enrol_second_factor"}
    header, value = session_cookie(response)
    assert value == token
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header


def test_the_cookie_is_secure_when_the_request_came_over_https(gateway):
    _token, response = signed_up_and_logged_in(gateway, https=True)

    header, _value = session_cookie(response)
    assert "Secure" in header


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(gateway):
    _token, untrusted = signed_up_and_logged_in(gateway, headers={"X-Forwarded-Proto": "https"})
    gateway.settings = GatewaySettings(trusted_proxies=["192.0.2.10"])
    trusted = respond(gateway.log_in, request(body=CREDENTIALS, headers={"X-Forwarded-Proto": "https"}))

    assert "Secure" not in session_cookie(untrusted)[0]
    assert "Secure" in session_cookie(trusted)[0]


def test_wrong_credentials_are_401_with_one_message_for_a_wrong_password_and_an_unknown_email(gateway):
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))

    wrong = respond(gateway.log_in, request(body={**CREDENTIALS, "password": "not the password"}))
    unknown = respond(gateway.log_in, request(body={**CREDENTIALS, "email": "nobody@example.org"}))

    assert wrong.status_code == unknown.status_code == 401
    assert body(wrong) == body(unknown)
    assert "Set-Cookie" not in wrong.headers


def test_a_throttled_login_is_429_with_its_code(gateway):
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))
    for _ in range(5):
        respond(gateway.log_in, request(body={**CREDENTIALS, "password": "not the password"}))

    response = respond(gateway.log_in, request(body=CREDENTIALS))

    assert response.status_code == 429
    assert body(response)["error"] == "too_many_attempts"
    assert "Try again in 15 minutes" in body(response)["message"]


def test_me_answers_the_principal_by_bearer_token_or_by_cookie(gateway):
    token, _response = signed_up_and_logged_in(gateway)

    by_bearer = respond(gateway.me, request("GET", token=token))
    by_cookie = respond(gateway.me, request("GET", cookie=token))

    assert by_bearer.status_code == by_cookie.status_code == 200
    assert body(by_bearer) == body(by_cookie)
    assert body(by_bearer)["email"] == "lalremruata@example.org"
    assert body(by_bearer)["is_cell_staff"] is False


@pytest.mark.parametrize("token", [None, "made-up-token"])
def test_me_without_a_valid_session_is_401(gateway, token):
    response = respond(gateway.me, request("GET", token=token))

    assert response.status_code == 401
    assert body(response)["error"] == "unauthenticated"


def test_logout_revokes_the_session_and_clears_the_cookie(gateway):
    token, _response = signed_up_and_logged_in(gateway)

    response = respond(gateway.log_out, request(cookie=token))

    assert response.status_code == 204
    header, value = session_cookie(response)
    assert value == ""
    assert "Expires=Thu, 01 Jan 1970" in header
    assert respond(gateway.me, request("GET", token=token)).status_code == 401


def test_logout_without_a_session_still_clears_the_cookie(gateway):
    response = respond(gateway.log_out, request())

    assert response.status_code == 204
    assert session_cookie(response)[1] == ""


def test_password_change_is_204_and_ends_the_other_sessions(gateway):
    first, _response = signed_up_and_logged_in(gateway)
    second = body(respond(gateway.log_in, request(body=CREDENTIALS)))["token"]

    response = respond(
        gateway.change_password,
        request(token=second, body={"current_password": PASSWORD, "new_password": "Zawlbuk thar 2026"}),
    )

    assert response.status_code == 204
    assert respond(gateway.me, request("GET", token=first)).status_code == 401
    assert respond(gateway.me, request("GET", token=second)).status_code == 200


def test_password_change_without_a_session_is_401_before_looking_at_the_body(gateway):
    response = respond(gateway.change_password, request(body={"current_password": "x"}))

    assert response.status_code == 401


def test_the_bearer_header_wins_over_the_cookie_and_other_schemes_are_ignored():
    assert session_token_of(request(token="from-header", cookie="from-cookie")) == "from-header"
    assert session_token_of(request(cookie="from-cookie")) == "from-cookie"
    assert session_token_of(request(headers={"Authorization": "Basic bGFsOnB3"}, cookie="c")) == "c"
    assert session_token_of(request(headers={"Authorization": "Bearer "})) is None
    assert session_token_of(request(token="x" * 201)) is None
    assert session_token_of(request()) is None


def test_principal_of_asks_the_registry_and_is_none_for_a_session_that_ended(gateway):
    token, _response = signed_up_and_logged_in(gateway)

    assert principal_of(gateway, request(token=token)).email == "lalremruata@example.org"
    respond(gateway.log_out, request(token=token))
    assert principal_of(gateway, request(token=token)) is None
    assert principal_of(gateway, request()) is None


def test_login_failures_count_against_the_address_a_trusted_proxy_forwarded(gateway, store):
    gateway.settings = GatewaySettings(trusted_proxies=["192.0.2.10"])
    respond(gateway.sign_up, request(body=CREDENTIALS | {"display_name": "Lalremruata"}))
    for attempt in range(20):
        guess = {"email": f"guess{attempt}@example.org", "password": "not the password"}
        respond(gateway.log_in, request(body=guess, headers={"X-Forwarded-For": "203.0.113.7"}))

    locked = respond(gateway.log_in, request(body=CREDENTIALS, headers={"X-Forwarded-For": "203.0.113.7"}))
    elsewhere = respond(gateway.log_in, request(body=CREDENTIALS, headers={"X-Forwarded-For": "198.51.100.2"}))

    assert locked.status_code == 429
    assert elsewhere.status_code == 200
    assert store.throttles["address:203.0.113.7"].is_locked(datetime.now(UTC) + timedelta(minutes=1))


def test_the_gateway_service_serves_the_auth_routes():
    from gateway.service import GatewayService

    assert issubclass(GatewayService, AuthRoutes)
