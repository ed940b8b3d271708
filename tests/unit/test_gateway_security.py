"""What the gateway does for every request, before any service is asked (issue: Security, points 7–10)."""

import json

import pytest
from werkzeug.test import EnvironBuilder

from gateway.auth import SESSION_COOKIE
from gateway.errors import error_response, json_response
from gateway.forwarding import came_over_https, client_address_of
from gateway.http import MAX_JSON_DEPTH, read_json, refuse_cross_site_writes
from gateway.settings import GatewaySettings

PROXIES = GatewaySettings(trusted_proxies="10.0.0.0/8, 192.0.2.10").trusted_proxies


def request(method="POST", *, data=None, content_type="application/json", headers=None, peer="192.0.2.10"):
    return EnvironBuilder(
        method=method,
        path="/api/v1/associations",
        base_url="http://hub.example.org/",
        data=data,
        content_type=content_type,
        headers=headers or {},
        environ_base={"REMOTE_ADDR": peer},
    ).get_request()


def status_of(call) -> int:
    try:
        call()
    except Exception as exc:
        return error_response(exc).status_code
    return 200


def test_json_endpoints_refuse_a_text_plain_form_body_with_415():
    form = request(data='{"email": "cell@example.org", "password": "x"}', content_type="text/plain")

    assert status_of(lambda: read_json(form)) == 415


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, "1" * 5000, "[" * 40 + "]" * 40],
    ids=["nested past the parser", "a number of 5000 digits", "nested past our limit"],
)
def test_deeply_nested_or_huge_number_json_is_400_not_500(body):
    assert status_of(lambda: read_json(request(data=body))) == 400


def test_json_nested_to_the_limit_is_accepted():
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH

    assert status_of(lambda: read_json(request(data=body))) == 200


def cookie_write(headers: dict) -> object:
    return request(headers={"Cookie": f"{SESSION_COOKIE}=a-token", **headers})


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example.com"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["another origin", "a cross-site fetch"],
)
def test_a_cookie_authenticated_write_from_another_site_is_403(headers):
    assert status_of(lambda: refuse_cross_site_writes(cookie_write(headers))) == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://hub.example.org"},
        {"Sec-Fetch-Site": "same-origin"},
        {},
        {"Origin": "https://evil.example.com", "Authorization": "Bearer a-token"},
    ],
    ids=["our own origin", "a same-origin fetch", "not a browser", "a bearer token"],
)
def test_writes_from_our_own_pages_or_with_a_bearer_token_pass(headers):
    assert status_of(lambda: refuse_cross_site_writes(cookie_write(headers))) == 200


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    spoofed = request(headers={"X-Forwarded-For": "203.0.113.7"}, peer="198.51.100.2")

    assert client_address_of(spoofed, PROXIES) == "198.51.100.2"


def test_the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy():
    # The client claims 1.2.3.4; our proxies 10.1.1.1 and 192.0.2.10 saw 203.0.113.7.
    forwarded = request(headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7, 10.1.1.1"}, peer="192.0.2.10")

    assert client_address_of(forwarded, PROXIES) == "203.0.113.7"
    assert client_address_of(request(peer="10.9.9.9"), PROXIES) == "10.9.9.9"


def test_forwarded_proto_counts_only_from_a_trusted_proxy():
    headers = {"X-Forwarded-Proto": "https"}

    assert came_over_https(request(headers=headers, peer="10.1.1.1"), PROXIES)
    assert not came_over_https(request(headers=headers, peer="198.51.100.2"), PROXIES)


def test_error_messages_never_echo_markup_unescaped():
    response = json_response(404, {"error": "not_found", "message": "there is no association with id <script>"})

    text = response.get_data(as_text=True)
    assert "<script>" not in text
    assert json.loads(text)["message"].endswith("<script>")
