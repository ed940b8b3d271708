"""servicekit's `rpc` entrypoint and TimedRpcProxy, over one RpcConnection per container, on a real broker."""

import logging
import random
import socket
import time
from urllib.parse import quote, urlsplit

import eventlet
import pytest
import requests
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import get_extension
from nameko.utils import get_redacted_args

from contracts.errors import DiasporaHubError, NotFound, Unavailable
from servicekit.rpc import Rpc, TimedRpcProxy, call_service, rpc
from servicekit.rpc_connection import RpcConnection
from servicekit.settings import BusSettings
from tests.conftest import RABBIT_MANAGEMENT


class CallIdStack(DependencyProvider):
    def get_dependency(self, worker_ctx) -> list[str]:
        return worker_ctx.call_id_stack


class Greeter:
    name = "greeter"
    echoed: list[object] = []

    call_id_stack = CallIdStack()

    @rpc
    def greet(self, who: str, *, punctuation: str = ".") -> str:
        return f"Chibai, {who}{punctuation}"

    @rpc(expected_exceptions=NotFound, sensitive_arguments=("token",))
    def find(self, key: str, token: str | None = None) -> str:
        raise NotFound(f"there is no {key}")

    @rpc
    def echo_slowly(self, value: object, seconds: float) -> object:
        eventlet.sleep(seconds)
        Greeter.echoed.append(value)
        return value

    @rpc
    def call_ids(self) -> list[str]:
        return self.call_id_stack

    @rpc
    def unserializable(self) -> object:
        return object()


class Caller:
    name = "caller"

    greeter = TimedRpcProxy("greeter")
    stranger = TimedRpcProxy("nobody_runs_this")
    call_id_stack = CallIdStack()

    @rpc
    def relay(self, method: str, *args, **kwargs) -> object:
        """The greeter's answer, or the error it raised as "<class>: <message>"."""
        try:
            return getattr(self.greeter, method)(*args, **kwargs)
        except DiasporaHubError as exc:
            return f"{type(exc).__name__}: {exc}"

    @rpc
    def ask_stranger(self) -> str:
        try:
            return self.stranger.anything()
        except Unavailable as exc:
            return f"Unavailable: {exc}"

    @rpc
    def fan_out(self, count: int) -> list[object]:
        def ask(value: int) -> object:
            return self.greeter.echo_slowly(value, random.uniform(0, 0.05))

        return list(eventlet.GreenPool(count).imap(ask, range(count)))

    @rpc
    def call_ids(self) -> dict[str, list[str]]:
        return {"caller": self.call_id_stack, "greeter": self.greeter.call_ids()}

    @rpc
    def send_unserializable(self) -> str:
        try:
            self.greeter.greet(object())
        except Exception as exc:
            return type(exc).__name__
        return "sent"


@pytest.fixture(scope="module")
def bus(rabbit_vhosts):
    """A vhost of this module's own, so no service of another test answers here."""
    return BusSettings(amqp_uri=rabbit_vhosts.create())


@pytest.fixture
def config(bus, monkeypatch):
    monkeypatch.setenv("DIASPORAHUB_RPC_TIMEOUT_SECONDS", "1")
    return bus.nameko_config()


@pytest.fixture
def greeter(config, container_factory):
    container = container_factory(Greeter, config)
    container.start()
    return container


@pytest.fixture
def caller(config, container_factory):
    container = container_factory(Caller, config)
    container.start()
    return container


def call(bus: BusSettings, method: str, *args, **kwargs):
    return call_service(bus, "caller", method, *args, timeout_seconds=10, **kwargs)


def test_a_result_comes_back_through_the_proxy(bus, greeter, caller):
    assert call(bus, "relay", "greet", "Ruth", punctuation="!") == "Chibai, Ruth!"


def test_a_remote_not_found_comes_back_as_not_found_through_the_proxy(bus, greeter, caller):
    assert call(bus, "relay", "find", "Aizawl") == "NotFound: there is no Aizawl"


def test_nameko_s_own_proxy_reads_the_replies(config, greeter):
    with ClusterRpcProxy(config, timeout=5) as cluster:
        assert cluster.greeter.greet("Mawia") == "Chibai, Mawia."
        with pytest.raises(NotFound, match="there is no Aizawl"):
            cluster.greeter.find("Aizawl")


def test_an_unserializable_result_comes_back_as_an_error_as_in_nameko(bus, greeter):
    with pytest.raises(Exception, match="UnserializableValueError"):
        call_service(bus, "greeter", "unserializable", timeout_seconds=5)


def test_expected_exceptions_and_sensitive_arguments_still_apply(bus, greeter, caplog):
    entrypoint = get_extension(greeter, Rpc, method_name="find")
    assert get_redacted_args(entrypoint, "Aizawl", token="s3cret") == {"key": "Aizawl", "token": "********"}

    with caplog.at_level(logging.WARNING, logger="nameko.containers"), pytest.raises(NotFound):
        call_service(bus, "greeter", "find", "Aizawl", timeout_seconds=5)
    assert [record.levelname for record in caplog.records if "greeter.find" in record.getMessage()] == ["WARNING"]


def test_a_service_that_never_ran_is_unavailable_at_once(bus, caller):
    call(bus, "ask_stranger")  # the connection opens on the first call

    # "is not running" comes from the broker returning the request, never from the timeout.
    assert call(bus, "ask_stranger") == "Unavailable: the nobody_runs_this service is not running"


def test_a_stopped_service_is_unavailable_after_the_timeout_and_the_request_expires_unprocessed(
    bus, config, greeter, caller, container_factory
):
    greeter.stop()
    Greeter.echoed.clear()

    started = time.monotonic()
    answer = call(bus, "relay", "echo_slowly", "late", 0)
    assert answer == "Unavailable: the greeter service did not answer within 1 s"
    assert 1 <= time.monotonic() - started < 10

    eventlet.sleep(0.5)
    container_factory(Greeter, config).start()
    eventlet.sleep(1.0)
    assert Greeter.echoed == []
    assert call(bus, "relay", "echo_slowly", "on time", 0) == "on time"


def test_concurrent_calls_from_one_worker_each_get_their_own_answer(bus, greeter, caller):
    assert call(bus, "fan_out", 50) == list(range(50))


def test_the_call_id_stack_goes_along_so_logs_link_the_calls(bus, greeter, caller):
    call_ids = call(bus, "call_ids")

    assert call_ids["greeter"][:-1] == call_ids["caller"]
    assert call_ids["greeter"][-1].startswith("greeter.call_ids.")


def test_an_argument_that_cannot_be_serialized_is_the_caller_s_error_not_unavailable(bus, greeter, caller):
    assert call(bus, "send_unserializable") == "EncodeError"


def _rpc_connections_named(bus: BusSettings, name: str) -> list[str]:
    vhost = urlsplit(bus.amqp_uri).path.lstrip("/")
    response = requests.get(
        f"{RABBIT_MANAGEMENT}/api/vhosts/{vhost}/connections",
        params={"columns": "name,client_properties"},
        timeout=10,
    )
    response.raise_for_status()
    return [
        connection["name"]
        for connection in response.json()
        if connection.get("client_properties", {}).get("connection_name") == name
    ]


def test_the_broker_closing_the_connection_is_recovered_on_the_next_call(bus, greeter, caller):
    assert call(bus, "relay", "greet", "Ruth") == "Chibai, Ruth."
    deadline = time.monotonic() + 10
    while not (names := _rpc_connections_named(bus, "caller rpc")):
        assert time.monotonic() < deadline, "the caller's RPC connection never showed in the management API"
        eventlet.sleep(0.2)

    for name in names:
        requests.delete(f"{RABBIT_MANAGEMENT}/api/connections/{quote(name, safe='')}", timeout=10).raise_for_status()
    # The reader sees the broker's close and drops the connection. (A request published in
    # the instant before that would be lost, and its caller told after the timeout.)
    rpc_connection = get_extension(caller, RpcConnection)
    while rpc_connection._connection is not None:
        assert time.monotonic() < deadline, "the closed connection was never dropped"
        eventlet.sleep(0.01)

    assert call(bus, "relay", "greet", "Mawia") == "Chibai, Mawia."


def test_a_dropped_network_connection_is_recovered_on_the_next_call(bus, greeter, caller):
    assert call(bus, "relay", "greet", "Ruth") == "Chibai, Ruth."
    connection = get_extension(caller, RpcConnection)._connection

    connection.connection.sock.shutdown(socket.SHUT_RDWR)

    assert call(bus, "relay", "greet", "Mawia") == "Chibai, Mawia."
    assert get_extension(caller, RpcConnection)._connection is not connection


def test_an_idle_connection_lives_on_heartbeats(bus, greeter, container_factory, monkeypatch):
    monkeypatch.setenv("DIASPORAHUB_RPC_TIMEOUT_SECONDS", "1")
    caller = container_factory(Caller, bus.nameko_config(HEARTBEAT=2))
    caller.start()
    assert call(bus, "relay", "greet", "Ruth") == "Chibai, Ruth."
    connection = get_extension(caller, RpcConnection)._connection

    eventlet.sleep(6)

    assert get_extension(caller, RpcConnection)._connection is connection
    assert call(bus, "relay", "greet", "Mawia") == "Chibai, Mawia."
