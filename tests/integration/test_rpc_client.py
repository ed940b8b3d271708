"""The standalone RPC client: answers over one connection, errors as their own class, never a hang."""

import time

import pytest

from contracts.errors import NotFound, Unavailable
from servicekit.rpc import rpc
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings


class Greeter:
    name = "greeter"

    @rpc
    def greet(self, who: str, *, punctuation: str = ".") -> str:
        return f"Chibai, {who}{punctuation}"

    @rpc(expected_exceptions=NotFound)
    def find(self, key: str) -> str:
        raise NotFound(f"there is no {key}")


@pytest.fixture(scope="module")
def bus(rabbit_vhosts):
    """A vhost of this module's own, so no service of another test answers here."""
    return BusSettings(amqp_uri=rabbit_vhosts.create())


@pytest.fixture
def greeter(bus, container_factory):
    container = container_factory(Greeter, bus.nameko_config())
    container.start()
    return container


def test_calls_return_their_results(bus, greeter):
    with RpcClient(bus, timeout_seconds=1) as client:
        answers = [client.call("greeter", "greet", who, punctuation="!") for who in ("Ruth", "Mawia")]

    assert answers == ["Chibai, Ruth!", "Chibai, Mawia!"]


def test_a_remote_not_found_comes_back_as_not_found(bus, greeter):
    with RpcClient(bus, timeout_seconds=1) as client, pytest.raises(NotFound, match="there is no Aizawl"):
        client.call("greeter", "find", "Aizawl")


def test_a_service_that_never_ran_is_unavailable_at_once(bus):
    # "is not running" comes from the broker returning the request, never from the timeout.
    with (
        RpcClient(bus, timeout_seconds=30) as client,
        pytest.raises(Unavailable, match="the nobody_runs_this service is not running"),
    ):
        client.call("nobody_runs_this", "anything")


def test_a_stopped_service_is_unavailable_after_the_timeout_and_the_client_still_works(bus, greeter, container_factory):
    greeter.stop()
    started = time.monotonic()
    with RpcClient(bus, timeout_seconds=1) as client:
        with pytest.raises(Unavailable, match="the greeter service did not answer within 1 s"):
            client.call("greeter", "greet", "Ruth")
        assert time.monotonic() - started < 10

        container_factory(Greeter, bus.nameko_config()).start()
        assert client.call("greeter", "greet", "Ruth") == "Chibai, Ruth."
