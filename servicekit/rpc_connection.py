"""The one RabbitMQ connection a service container keeps for RPC, used by servicekit.rpc."""

import logging
import time
import uuid
from contextlib import suppress
from functools import partial
from typing import Any

import amqp
import eventlet
from amqp.exceptions import AMQPError
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from kombu import Connection, Consumer, Queue
from kombu.exceptions import KombuError
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_HEARTBEAT,
    HEARTBEAT_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
)
from nameko.extensions import SharedExtension
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, get_rpc_exchange

log = logging.getLogger(__name__)


class BrokerNotAnswering(ConnectionError):
    """RabbitMQ took a connection but did not finish opening it (it may be starting, or a network path hangs)."""


CONNECTION_ERRORS = (OSError, AMQPError, KombuError)
TRANSIENT = 1  # AMQP delivery mode: a request or reply lives for seconds and need not survive a broker restart
# What a caller gets instead of a reply when the broker hands its request back: no queue is bound.
RETURNED = object()


def amqp_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """A message's AMQP properties from a publish's keyword arguments, as kombu's publish makes them: `headers` are
    AMQP's `application_headers`, `expiration` in seconds becomes the milliseconds, as a string, that AMQP wants;
    `mandatory` is the publish's, not the message's."""
    amqp_properties = {name: value for name, value in properties.items() if name not in ("mandatory", "headers")}
    amqp_properties["application_headers"] = properties.get("headers") or {}
    if (expiration := amqp_properties.get("expiration")) is not None:
        amqp_properties["expiration"] = str(int(expiration * 1000))
    return amqp_properties


class RpcConnection(SharedExtension):
    """The one connection on which a service container publishes RPC replies and requests and gets its replies.

    Nothing waits for a publisher confirm: every caller has a timeout, which already covers
    a lost reply or request. Instead a greenthread reads the connection all the time: the
    replies to this container's calls (on an exclusive queue, without acks), a request the
    broker cannot route because no service queue is bound (mandatory + basic.return, so an
    unknown service is known at once), the broker's heartbeats, and the broker closing the
    connection, which is then dropped at once: the next publish opens a new one.

    Keeping confirms only to learn of a return, on a shared producer, cost more: the
    confirm's round trip is made under the lock, so concurrent callers queue behind each
    other, and the confirm wait reads the connection, so replies need another one, read by
    nameko's QueueConsumer, which spawns a greenthread and acks each reply. Measured in one
    run of benchmarks/rpc_roundtrip.py with both proxies (the confirming one not kept; 2
    shared CPUs): one call at a time took p50 0.75 ms this way against 0.91 ms with
    confirms (raw kombu 0.49 ms); 50 calls at once from one worker, 0.83 ms a call against 1.26 ms.
    """

    # A connection not open by then is given up. py-amqp bounds only the TCP connect and the handshake
    # (`connect_timeout`); opening the channel and declaring wait for the broker without a limit, and all
    # this happens under the lock, so a broker that accepts but does not answer (RabbitMQ starting up)
    # would otherwise hold every publish of the container, including replies, which have no timeout.
    connect_timeout_seconds = 5.0

    def __init__(self) -> None:
        # Set here, not in setup(): a proxy's setup() may run before this one's.
        self._replies_wanted = False
        self._awaited: dict[str, Event] = {}
        super().__init__()

    def setup(self) -> None:
        config = self.container.config
        self.exchange = get_rpc_exchange(config)
        self._connection_params = {
            "hostname": config[AMQP_URI_CONFIG_KEY],
            "ssl": config.get(AMQP_SSL_CONFIG_KEY),
            "login_method": config.get(LOGIN_METHOD_CONFIG_KEY),
            "heartbeat": config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT),
            "connect_timeout": self.connect_timeout_seconds,
            # Named in the broker's management UI: "<service> rpc".
            "transport_options": {"client_properties": {"connection_name": f"{self.container.service_name} rpc"}},
        }
        # The broker user this container signs in as (a Connection not yet connected only parses its URI).
        self._user_id = Connection(**self._connection_params).info()["userid"]
        # One greenthread writes on the connection at a time: frames of two messages must not interleave.
        self._lock = Semaphore()
        self._connection: Connection | None = None
        self._channel: amqp.Channel | None = None  # publishes; None while no connection is open
        self._reader: eventlet.greenthread.GreenThread | None = None
        self._reply_to: str | None = None

    def receive_replies(self) -> None:
        """Called by a proxy's setup: the connection gets a reply queue when it opens."""
        self._replies_wanted = True

    def reply(self, body: bytes, *, routing_key: str, **properties: Any) -> None:
        """Publish a reply, already serialized, to the caller's reply queue."""
        with self._lock:
            self._publish_retrying_once(body, routing_key, properties)

    def request(self, body: bytes, *, routing_key: str, correlation_id: str, **properties: Any) -> Event:
        """Publish a serialized request; its reply, or `RETURNED` if no service queue is bound, comes to the event."""
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

    def _publish_retrying_once(self, body: bytes, routing_key: str, properties: dict[str, Any], **options) -> None:
        opens_a_connection = self._channel is None
        try:
            self._publish(body, routing_key, properties, **options)
        except CONNECTION_ERRORS as exc:
            if opens_a_connection:
                raise  # the broker did not take a new connection just now: a second one would wait as long
            # The connection broke since the last message. A message that failed to go
            # out whole is dropped by the broker with the connection, so one retry on a
            # new connection cannot deliver it twice.
            log.info("RPC connection lost (%s); publishing on a new one", exc)
            self._publish(body, routing_key, properties, **options)

    def _publish(self, body: bytes, routing_key: str, properties: dict[str, Any], *, is_request: bool = False) -> None:
        if self._channel is None:
            self._connect()
        if is_request:
            # The reply queue of the connection open now: a new connection has a new queue.
            properties["reply_to"] = self._reply_to
            # Who calls: RabbitMQ refuses a message whose user_id is not the connection's user, so the service
            # called can trust it (servicekit.rpc's `callers=`).
            properties["user_id"] = self._user_id
        try:
            self._channel.basic_publish(
                amqp.Message(body, delivery_mode=TRANSIENT, **amqp_properties(properties)),
                exchange=self.exchange.name,
                routing_key=routing_key,
                mandatory=properties.get("mandatory", False),
            )
        except BaseException:
            # Interrupted (an error, a caller's timeout), part of a message may be on the
            # wire: nothing more may be written after it on this connection.
            self._discard()
            raise

    def _connect(self) -> None:
        connection = Connection(**self._connection_params)
        seconds = self.connect_timeout_seconds
        not_answering = BrokerNotAnswering(f"RabbitMQ did not open a connection within {seconds:g} s")
        try:
            with eventlet.Timeout(seconds, not_answering):
                self._open(connection)
        except BaseException:
            connection.collect()
            raise
        self._reader = self.container.spawn_managed_thread(
            partial(self._read, connection), identifier="RpcConnection.read"
        )

    def _open(self, connection: Connection) -> None:
        """Opens the channel it publishes on and the reply queue; sets them only once all are there."""
        channel = connection.channel()
        # Declared now, as the reply queue: a declaration waits for the broker's
        # answer, which the reader would take once it runs.
        self.exchange(channel).declare()
        channel.events["basic_return"].add(self._on_return)
        reply_to = None
        if self._replies_wanted:
            reply_to = str(uuid.uuid4())
            # Exclusive: the broker deletes it with the connection, and no other connection can take it.
            reply_queue = Queue(
                RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_to),
                exchange=self.exchange,
                routing_key=reply_to,
                exclusive=True,
            )
            Consumer(
                channel,
                queues=[reply_queue],
                callbacks=[self._on_reply],
                on_decode_error=self._on_undecodable_reply,
                accept=self.container.accept,
                no_ack=True,
            ).consume()
        self._connection, self._channel, self._reply_to = connection, channel, reply_to

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
        self._connection = self._channel = self._reader = self._reply_to = None
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

    def _on_undecodable_reply(self, message, exc: Exception) -> None:
        log.warning("dropped an RPC reply that cannot be decoded (%s): %r", exc, message.properties)

    def _on_return(self, exception, exchange, routing_key, message) -> None:
        self._settle(message.properties.get("correlation_id"), RETURNED)

    def _settle(self, correlation_id: str | None, outcome: Any) -> None:
        awaited = self._awaited.pop(correlation_id, None)
        if awaited is not None:
            awaited.send(outcome)
