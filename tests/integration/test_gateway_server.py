"""The gateway's HTTP server against slow and numerous clients, and the headers on every answer."""

import json
import socket
import time

import pytest
import requests

from gateway.service import GatewayService
from servicekit.settings import BusSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_gateway(bus, amqp_uri, container_factory, monkeypatch):
    def start(**limits) -> str:
        for name, value in limits.items():
            monkeypatch.setenv(f"GATEWAY_{name.upper()}", str(value))
        address = f"127.0.0.1:{free_port()}"
        container = container_factory(
            GatewayService, BusSettings(amqp_uri=amqp_uri).nameko_config(WEB_SERVER_ADDRESS=address)
        )
        container.start()
        return f"http://{address}"

    return start


def slow_body_connection(url: str) -> socket.socket:
    """A sign-up whose body announces 1,000 bytes and sends one."""
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    connection.sendall(
        b"POST /api/v1/auth/signup HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    return connection


def test_every_answer_carries_the_security_headers_and_personal_data_is_not_cached(start_gateway):
    url = start_gateway()

    for response in (requests.get(f"{url}/healthz", timeout=5), requests.get(f"{url}/no/such/page", timeout=5)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_ten_slow_request_bodies_do_not_stall_the_api_and_are_cut_off_at_the_deadline(start_gateway):
    url = start_gateway(read_timeout_seconds=10, body_deadline_seconds=2, max_connections=50)
    slow = [slow_body_connection(url) for _ in range(12)]

    health = requests.get(f"{url}/healthz", timeout=5)

    assert health.status_code == 200
    for connection in slow:
        connection.settimeout(10)
        answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        connection.close()


def test_connections_beyond_the_limit_are_answered_503_at_once(start_gateway):
    url = start_gateway(read_timeout_seconds=10, max_connections=5)
    host, port = url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(5)]
    time.sleep(0.3)  # let the server accept them all

    refused = requests.get(f"{url}/healthz", timeout=5)

    assert refused.status_code == 503
    assert json.loads(refused.content)["error"] == "unavailable"
    for connection in idle:
        connection.close()
    deadline = time.monotonic() + 10
    while requests.get(f"{url}/healthz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the server did not take connections again after the idle ones closed"
        time.sleep(0.1)
