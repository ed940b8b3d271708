"""RpcConnection while RabbitMQ restarts, seen through a TCP proxy so the real broker is never touched.

The proxy stands for the broker's states during `rabbitmqctl stop_app`/`start_app`: connections cut,
connections taken but channels never opened (the broker starting), then everything answering again.
"""

import socket
import struct
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

import eventlet
import pytest
from nameko.testing.services import dummy, entrypoint_hook
from nameko.testing.utils import get_extension

from contracts.errors import Unavailable
from servicekit.rpc import TimedRpcProxy, rpc
from servicekit.rpc_connection import BrokerNotAnswering, RpcConnection
from servicekit.settings import BusSettings

# A test that hangs is a failure, not a wait: how long a call may take before the test says so.
HANG_GUARD_SECONDS = 30
FRAME_HEADER = struct.Struct(">BHI")  # AMQP 0-9-1: type, channel, payload size; then the payload and 0xCE


class BrokerProxy:
    """Forwards to RabbitMQ; `cut()` closes every connection, `stall_channels()` lets new connections finish
    the handshake (channel 0) but never passes the broker's answers on other channels, `restore()` forwards,
    `refuse()` closes the port and `listen_again()` reopens it."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = eventlet.listen(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stalls_channels = False
        self._sockets: list[socket.socket] = []
        self._acceptor = eventlet.spawn(self._accept)

    def uri_for(self, amqp_uri: str) -> str:
        parts = urlsplit(amqp_uri)
        credentials = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{self.port}"))

    def cut(self) -> None:
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the pipes reading it end; closing under them would raise
        self._sockets.clear()

    def stall_channels(self) -> None:
        self.cut()
        self.stalls_channels = True

    def restore(self) -> None:
        self.stalls_channels = False

    def refuse(self) -> None:
        """Cut, and refuse new connections, as a stopped broker's closed port does."""
        self._acceptor.kill()
        self.listener.close()
        self.cut()

    def listen_again(self) -> None:
        self.listener = eventlet.listen(("127.0.0.1", self.port))
        self._acceptor = eventlet.spawn(self._accept)

    def close(self) -> None:
        self.refuse()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            broker = socket.create_connection(self.upstream)
            self._sockets += [client, broker]
            eventlet.spawn(self._pipe, client, broker)
            eventlet.spawn(self._pipe_frames if self.stalls_channels else self._pipe, broker, client)

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except (OSError, EOFError):
            pass
        finally:
            target.close()

    @staticmethod
    def _pipe_frames(broker: socket.socket, client: socket.socket) -> None:
        reader = broker.makefile("rb")
        try:
            while header := reader.read(FRAME_HEADER.size):
                _kind, channel, size = FRAME_HEADER.unpack(header)
                frame = header + reader.read(size + 1)
                if channel == 0:  # the handshake and heartbeats; Channel.OpenOk never comes
                    client.sendall(frame)
        except (OSError, EOFError, ValueError, struct.error):
            pass
        finally:
            client.close()


class Greeter:
    name = "greeter"

    @rpc
    def greet(self, who: str) -> str:
        return f"Chibai, {who}."


class CallerBehindProxy:
    name = "caller_behind_proxy"

    greeter = TimedRpcProxy("greeter")

    @dummy
    def greet(self, who: str) -> str:
        return self.greeter.greet(who)


@pytest.fixture(scope="module")
def bus(rabbit_vhosts):
    return BusSettings(amqp_uri=rabbit_vhosts.create())


@pytest.fixture
def proxy(bus):
    parts = urlsplit(bus.amqp_uri)
    proxy = BrokerProxy((parts.hostname, parts.port or 5672))
    yield proxy
    proxy.close()


@pytest.fixture
def caller(bus, proxy, container_factory, monkeypatch):
    """The greeter on the broker itself; the caller through the proxy, with a connect timeout far below its RPC
    timeout, so which of the two ended a call shows in the error."""
    monkeypatch.setenv("DIASPORAHUB_RPC_TIMEOUT_SECONDS", "60")
    monkeypatch.setattr(RpcConnection, "connect_timeout_seconds", 0.5)
    container_factory(Greeter, bus.nameko_config()).start()
    container = container_factory(CallerBehindProxy, bus.nameko_config() | {"AMQP_URI": proxy.uri_for(bus.amqp_uri)})
    container.start()
    return container


def greet(caller, who: str) -> str:
    hang = AssertionError(f"the call hung for {HANG_GUARD_SECONDS} s")
    with eventlet.Timeout(HANG_GUARD_SECONDS, hang), entrypoint_hook(caller, "greet") as hook:
        return hook(who)


def test_a_call_while_the_broker_opens_no_channels_fails_on_the_connect_timeout_then_works_again(caller, proxy):
    assert greet(caller, "Ruth") == "Chibai, Ruth."

    proxy.stall_channels()
    with pytest.raises(Unavailable, match="RabbitMQ did not open a connection within 0.5 s"):
        greet(caller, "Mawia")

    proxy.restore()
    assert greet(caller, "Mawia") == "Chibai, Mawia."


def test_replies_which_have_no_timeout_of_their_own_are_not_held_by_a_hanging_connect(caller, proxy):
    """Two publishers at once: the second waits for the lock, never longer than the first's connect timeout."""
    rpc_connection = get_extension(caller, RpcConnection)
    proxy.stall_channels()

    def reply() -> BaseException | None:
        try:
            rpc_connection.reply(b"{}", routing_key="nobody_waits_for_this", content_type="application/json")
        except BrokerNotAnswering as exc:
            return exc
        return None

    with eventlet.Timeout(HANG_GUARD_SECONDS, AssertionError("a reply hung on the connect")):
        outcomes = [thread.wait() for thread in [eventlet.spawn(reply), eventlet.spawn(reply)]]

    assert all(isinstance(outcome, BrokerNotAnswering) for outcome in outcomes), outcomes
    assert not rpc_connection._lock.locked()
    proxy.restore()
    assert greet(caller, "Ruth") == "Chibai, Ruth."


def test_connections_cut_and_refused_then_back_are_recovered(caller, proxy):
    assert greet(caller, "Ruth") == "Chibai, Ruth."

    proxy.refuse()
    with pytest.raises(Unavailable, match="cannot be reached"):
        greet(caller, "Mawia")

    proxy.listen_again()
    assert greet(caller, "Mawia") == "Chibai, Mawia."
