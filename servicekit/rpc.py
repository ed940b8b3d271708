"""RPC between services, kept fast and never hanging.

`rpc` is nameko's entrypoint, replying through one connection per service container
rather than through a pooled connection and a publisher confirm per reply. `TimedRpcProxy`
calls another service through that same connection: every call has a timeout, and a
service that is not running is `Unavailable` at once. Both keep nameko's wire format, so
nameko's own proxies and entrypoints talk to them unchanged.

Importing this module (through servicekit.rpc_client) also lets our error types cross RPC as themselves.
"""

import logging
import sys
import time
import uuid
from contextlib import suppress
from functools import partial
from typing import Any

import eventlet
import kombu.serialization
from amqp.exceptions import AMQPError
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from kombu import Connection, Consumer, Producer, Queue
from kombu.exceptions import KombuError
from nameko import rpc as nameko_rpc
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_HEARTBEAT,
    DEFAULT_SERIALIZER,
    HEARTBEAT_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import UnserializableValueError, deserialize, serialize
from nameko.extensions import DependencyProvider, SharedExtension
from nameko.messaging import HeaderEncoder

from contracts.errors import Unavailable
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (OSError, AMQPError, KombuError)
# What a caller gets instead of a reply when the broker hands its request back: no queue is bound.
RETURNED = object()


class RpcConnection(SharedExtension):
    """The one connection on which a service container publishes RPC replies and requests and gets its replies.

    Nothing waits for a publisher confirm: every caller has a timeout, which already covers
    a lost reply or request. Instead a greenthread reads the connection all the time: the
    replies to this container's calls (on an exclusive queue, without acks), a request the
    broker cannot route because no service queue is bound (mandatory + basic.return, so an
    unknown service is known at once), the broker's heartbeats, and the broker closing the
    connection, which is then dropped at once: the next publish opens a new one.

    Keeping confirms only to learn of a return, on a shared producer, cost more: the
    confirm's round trip has to be made under the lock, so concurrent callers queue behind
    each other, and it needs a second connection for replies, read by nameko's
    QueueConsumer, which spawns a greenthread and acks each reply. Measured with
    benchmarks/rpc_roundtrip.py, TimedRpcProxy -> rpc: CONFIRM_FIGURES.
    """

    def __init__(self) -> None:
        # Set here, not in setup(): a proxy's setup() may run before this one's.
        self._replies_wanted = False
        self._awaited: dict[str, Event] = {}
        super().__init__()

    def setup(self) -> None:
        config = self.container.config
        self.exchange = nameko_rpc.get_rpc_exchange(config)
        self._connection_params = {
            "hostname": config[AMQP_URI_CONFIG_KEY],
            "ssl": config.get(AMQP_SSL_CONFIG_KEY),
            "login_method": config.get(LOGIN_METHOD_CONFIG_KEY),
            "heartbeat": config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT),
            # Named in the broker's management UI: "<service> rpc".
            "transport_options": {"client_properties": {"connection_name": f"{self.container.service_name} rpc"}},
        }
        # One greenthread writes on the connection at a time: frames of two messages must not interleave.
        self._lock = Semaphore()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._reader: eventlet.greenthread.GreenThread | None = None
        self._reply_to: str | None = None

    def receive_replies(self) -> None:
        """Called by a proxy's setup: the connection gets a reply queue when it opens."""
        self._replies_wanted = True

    def reply(self, body: bytes, *, routing_key: str, **properties: Any) -> None:
        """Publish a reply, already serialized, to the caller's reply queue."""
        with self._lock:
            self._publish_retrying_once(body, routing_key, properties)

    def request(self, body: Any, *, routing_key: str, correlation_id: str, **properties: Any) -> Event:
        """Publish a request; its reply body, or `RETURNED` when no service queue is bound, comes to the event."""
        awaited = self._awaited[correlation_id] = Event()
        properties.update(correlation_id=correlation_id, mandatory=True)
        with self._lock:
            self._publish_retrying_once(body, routing_key, properties, is_request=True)
        return awaited

    def forget(self, correlation_id: str) -> None:
        """A reply or return that comes after this is dropped."""
        self._awaited.pop(correlation_id, None)

    def stop(self) -> None:
        with self._lock:
            self._discard(graceful=True)

    def kill(self) -> None:
        self._discard()

    def _publish_retrying_once(self, body: Any, routing_key: str, properties: dict[str, Any], **options) -> None:
        try:
            self._publish(body, routing_key, properties, **options)
        except CONNECTION_ERRORS as exc:
            # The connection broke since the last message. A message that failed to go
            # out whole is dropped by the broker with the connection, so one retry on a
            # new connection cannot deliver it twice.
            log.info("RPC connection lost (%s); publishing on a new one", exc)
            self._publish(body, routing_key, properties, **options)

    def _publish(self, body: Any, routing_key: str, properties: dict[str, Any], *, is_request: bool = False) -> None:
        if self._producer is None:
            self._connect()
        if is_request:
            # The reply queue of the connection open now: a new connection has a new queue.
            properties["reply_to"] = self._reply_to
        try:
            self._producer.publish(body, routing_key=routing_key, delivery_mode="transient", **properties)
        except BaseException:
            # Interrupted (an error, a caller's timeout), part of a message may be on the
            # wire: nothing more may be written after it on this connection.
            self._discard()
            raise

    def _connect(self) -> None:
        connection = Connection(**self._connection_params)
        try:
            channel = connection.channel()
            # Declared now, as the reply queue: a declaration waits for the broker's
            # answer, which the reader would take once it runs.
            self.exchange(channel).declare()
            producer = Producer(channel, exchange=self.exchange, auto_declare=False, on_return=self._on_return)
            reply_to = None
            if self._replies_wanted:
                reply_to = str(uuid.uuid4())
                # Exclusive: the broker deletes it with the connection, and no other connection can take it.
                reply_queue = Queue(
                    nameko_rpc.RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_to),
                    exchange=self.exchange,
                    routing_key=reply_to,
                    exclusive=True,
                )
                Consumer(
                    channel, queues=[reply_queue], callbacks=[self._on_reply], accept=self.container.accept, no_ack=True
                ).consume()
        except BaseException:
            connection.collect()
            raise
        self._connection, self._producer, self._reply_to = connection, producer, reply_to
        self._reader = self.container.spawn_managed_thread(
            partial(self._read, connection), identifier="RpcConnection.read"
        )

    def _read(self, connection: Connection) -> None:
        """Reads `connection` until it breaks or is replaced."""
        heartbeat = self._connection_params["heartbeat"]
        # py-amqp wants its heartbeat tick about once a second, more often for short heartbeats.
        tick_seconds = min(1.0, heartbeat / 4) if heartbeat else 1.0
        next_tick = time.monotonic() + tick_seconds
        try:
            while True:
                with suppress(TimeoutError):
                    connection.drain_events(timeout=tick_seconds)
                if time.monotonic() >= next_tick:
                    with self._lock:
                        connection.heartbeat_check()
                    next_tick = time.monotonic() + tick_seconds
        except Exception as exc:  # an error in a managed thread would kill the container
            with self._lock:
                if self._connection is connection:
                    log.warning("RPC connection lost (%s); the next publish opens a new one", exc)
                    self._discard()

    def _discard(self, *, graceful: bool = False) -> None:
        connection, reader = self._connection, self._reader
        self._connection = self._producer = self._reader = self._reply_to = None
        if reader is not None and reader is not eventlet.getcurrent():
            reader.kill()
        if connection is None:
            return
        if graceful:
            try:
                with eventlet.Timeout(1):
                    connection.release()
                return
            except (eventlet.Timeout, *CONNECTION_ERRORS):
                pass
        connection.collect()

    def _on_reply(self, body: dict[str, Any], message) -> None:
        self._settle(message.properties.get("correlation_id"), body)

    def _on_return(self, exception, exchange, routing_key, message) -> None:
        self._settle(message.properties.get("correlation_id"), RETURNED)

    def _settle(self, correlation_id: str | None, outcome: Any) -> None:
        awaited = self._awaited.pop(correlation_id, None)
        if awaited is not None:
            awaited.send(outcome)


def reply_body(message, result: Any, exc_info) -> tuple[bytes, str, str, Any, Any]:
    """nameko's reply to `message`, serialized as the request was: body, content type and encoding, result, exc_info."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
    try:
        content_type, content_encoding, body = kombu.serialization.dumps({"result": result, "error": error}, serializer)
    except Exception:
        # As nameko does: an unserializable result becomes an error the caller can read.
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        result = None
        content_type, content_encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
    return body, content_type, content_encoding, result, exc_info


class Rpc(nameko_rpc.Rpc):
    """nameko's `rpc` entrypoint, replying through the container's RpcConnection.

    It shares nameko's RpcConsumer, so a service may mix both entrypoints while it moves over.
    """

    rpc_connection = RpcConnection()

    def handle_result(self, message, worker_ctx, result, exc_info):
        body, content_type, content_encoding, result, exc_info = reply_body(message, result, exc_info)
        self.rpc_connection.reply(
            body,
            routing_key=message.properties["reply_to"],
            correlation_id=message.properties.get("correlation_id"),
            content_type=content_type,
            content_encoding=content_encoding,
        )
        self.rpc_consumer.queue_consumer.ack_message(message)
        return result, exc_info


rpc = Rpc.decorator


class TimedServiceProxy:
    """What a worker sees as `self.registry`: `self.registry.get_association(...)` is one timed call."""

    def __init__(self, provider: "TimedRpcProxy", worker_ctx) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def __getattr__(self, method_name: str):
        return partial(self._provider.call, self._worker_ctx, method_name)


class TimedRpcProxy(DependencyProvider, HeaderEncoder):
    """Calls `target_service`, each call within `DIASPORAHUB_RPC_TIMEOUT_SECONDS` or `Unavailable`.

    Any number of the container's greenthreads may call at once, over its RpcConnection.
    """

    rpc_connection = RpcConnection()

    def __init__(self, target_service: str) -> None:
        self.target_service = target_service

    def setup(self) -> None:
        self.timeout_seconds = BusSettings().rpc_timeout_seconds
        self.serializer = self.container.config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER)
        self.rpc_connection.receive_replies()

    def get_dependency(self, worker_ctx) -> TimedServiceProxy:
        return TimedServiceProxy(self, worker_ctx)

    def call(self, worker_ctx, method_name: str, *args: Any, **kwargs: Any) -> Any:
        service = self.target_service
        correlation_id = str(uuid.uuid4())
        try:
            with eventlet.Timeout(self.timeout_seconds) as timeout:
                try:
                    awaited = self.rpc_connection.request(
                        {"args": args, "kwargs": kwargs},
                        serializer=self.serializer,
                        routing_key=f"{service}.{method_name}",
                        correlation_id=correlation_id,
                        # nameko.call_id_stack and the rest of the context, as nameko's MethodProxy sends them.
                        headers=self.get_message_headers(worker_ctx),
                        # An unanswered request expires in the queue: a service that comes
                        # back later must not act on a call whose caller was told it failed.
                        expiration=self.timeout_seconds,
                    )
                except CONNECTION_ERRORS as exc:
                    raise Unavailable(f"the {service} service cannot be reached: {exc}") from exc
                outcome = awaited.wait()
        except eventlet.Timeout as exc:
            if exc is not timeout:
                raise
            raise Unavailable(f"the {service} service did not answer within {self.timeout_seconds:g} s") from None
        finally:
            self.rpc_connection.forget(correlation_id)
        if outcome is RETURNED:
            raise Unavailable(f"the {service} service is not running")
        if outcome["error"]:
            raise deserialize(outcome["error"])
        return outcome["result"]


def call_service(bus: BusSettings, service: str, method: str, *args, timeout_seconds: float | None = None, **kwargs):
    """One RPC from outside a service (command line, start-up checks)."""
    with RpcClient(bus, timeout_seconds=timeout_seconds) as client:
        return client.call(service, method, *args, **kwargs)
