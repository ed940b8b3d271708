"""RPC between services never hangs: a slow, stopped or unknown service is `Unavailable` in seconds."""

import time

import eventlet
import pytest

from contracts.errors import NotFound, Unavailable
from servicekit.rpc import TimedRpcProxy, call_service, rpc
from servicekit.settings import BusSettings


class Sleeper:
    name = "sleeper"
    naps_taken: list[float] = []

    @rpc
    def nap(self, seconds: float) -> float:
        eventlet.sleep(seconds)
        Sleeper.naps_taken.append(seconds)
        return seconds

    @rpc(expected_exceptions=NotFound)
    def find(self, key: str) -> str:
        raise NotFound(f"there is no {key}")


class Caller:
    name = "caller"

    sleeper = TimedRpcProxy("sleeper")
    stranger = TimedRpcProxy("nobody_runs_this")

    @rpc
    def ask_sleeper(self, seconds: float) -> str:
        try:
            return f"answered {self.sleeper.nap(seconds)}"
        except Unavailable as exc:
            return f"unavailable: {exc}"

    @rpc
    def ask_sleeper_to_find(self, key: str) -> str:
        try:
            self.sleeper.find(key)
        except NotFound as exc:
            return f"not found: {exc}"
        return "found"

    @rpc
    def ask_stranger(self) -> str:
        try:
            return self.stranger.anything()
        except Unavailable as exc:
            return f"unavailable: {exc}"


@pytest.fixture
def one_second_timeout(monkeypatch):
    monkeypatch.setenv("DIASPORAHUB_RPC_TIMEOUT_SECONDS", "1")


def call_caller(amqp_uri, method: str, *args):
    return call_service(BusSettings(amqp_uri=amqp_uri), "caller", method, *args, timeout_seconds=10)


def test_a_prompt_answer_comes_back(nameko_config, amqp_uri, container_factory, one_second_timeout):
    container_factory(Sleeper, nameko_config).start()
    container_factory(Caller, nameko_config).start()

    # `seconds: float`: the 0 sent arrives, and comes back, as the float it is annotated as.
    assert call_caller(amqp_uri, "ask_sleeper", 0) == "answered 0.0"


def test_a_remote_error_comes_back_as_its_own_class(nameko_config, amqp_uri, container_factory, one_second_timeout):
    container_factory(Sleeper, nameko_config).start()
    container_factory(Caller, nameko_config).start()

    assert call_caller(amqp_uri, "ask_sleeper_to_find", "Aizawl") == "not found: there is no Aizawl"


def test_a_slow_service_is_unavailable_after_the_timeout(
    nameko_config, amqp_uri, container_factory, one_second_timeout
):
    container_factory(Sleeper, nameko_config).start()
    container_factory(Caller, nameko_config).start()

    started = time.monotonic()
    answer = call_caller(amqp_uri, "ask_sleeper", 3)

    assert answer == "unavailable: the sleeper service did not answer within 1 s"
    assert time.monotonic() - started < 10


def test_a_service_that_never_ran_is_unavailable_at_once(
    nameko_config, amqp_uri, container_factory, one_second_timeout
):
    container_factory(Caller, nameko_config).start()

    assert call_caller(amqp_uri, "ask_stranger") == "unavailable: the nobody_runs_this service is not running"


def test_a_call_to_a_stopped_service_expires_instead_of_running_late(
    nameko_config, amqp_uri, container_factory, one_second_timeout
):
    sleeper = container_factory(Sleeper, nameko_config)
    sleeper.start()
    sleeper.stop()
    container_factory(Caller, nameko_config).start()
    Sleeper.naps_taken.clear()

    assert call_caller(amqp_uri, "ask_sleeper", 0.01).startswith("unavailable:")

    eventlet.sleep(1.5)
    container_factory(Sleeper, nameko_config).start()
    eventlet.sleep(1.0)
    assert Sleeper.naps_taken == []


def test_the_standalone_client_is_unavailable_for_an_unknown_service(amqp_uri, nameko_config):
    with pytest.raises(Unavailable, match="the nobody_runs_this service is not running"):
        call_service(BusSettings(amqp_uri=amqp_uri), "nobody_runs_this", "anything", timeout_seconds=1)


def test_the_standalone_client_is_unavailable_when_a_stopped_service_does_not_answer(
    amqp_uri, nameko_config, container_factory
):
    sleeper = container_factory(Sleeper, nameko_config)
    sleeper.start()
    sleeper.stop()

    started = time.monotonic()
    with pytest.raises(Unavailable, match="the sleeper service did not answer within 1 s"):
        call_service(BusSettings(amqp_uri=amqp_uri), "sleeper", "nap", 0, timeout_seconds=1)
    assert time.monotonic() - started < 10
