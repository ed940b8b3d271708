"""Calls to nameko services from outside a service (command line, start-up checks), kept fast.

nameko's standalone ClusterRpcProxy opens a connection and declares a reply queue
each time it is entered, and waits for a publisher confirm on every call. This
client opens one connection and one reply queue for its lifetime, and learns that
a service is not running from the broker returning the request, which arrives on
the connection it is reading anyway.

Importing this module also lets our error types cross RPC as themselves.
"""

import time
import uuid
from typing import Any

from kombu import Connection, Consumer, Producer, Queue
from nameko.exceptions import deserialize, deserialize_to_instance
from nameko.rpc import get_rpc_exchange

from contracts.errors import EXPECTED_ERRORS, Unavailable
from contracts.validation import InvalidPayload
from servicekit.settings import BusSettings

for _error in (*EXPECTED_ERRORS, InvalidPayload):
    deserialize_to_instance(_error)


class RpcClient:
    """One connection and one reply queue to call any service; one call at a time, one thread.

    with RpcClient(BusSettings()) as client:
        client.call("registry", "get_association", association_id)
    """

    def __init__(self, bus: BusSettings, *, timeout_seconds: float | None = None) -> None:
        self.timeout_seconds = timeout_seconds or bus.rpc_timeout_seconds
        self._exchange = get_rpc_exchange(bus.nameko_config())
        self._connection = Connection(bus.amqp_uri, connect_timeout=self.timeout_seconds, ssl=bus.ssl_options())
        channel = self._connection.channel()
        self._reply_routing_key = str(uuid.uuid4())
        # Exclusive: the broker deletes the queue when this client's connection closes.
        # Named after the broker user, whose permissions allow it its own reply queues (servicekit.broker_access).
        self._user_id = self._connection.info()["userid"]
        reply_queue = Queue(
            f"rpc.reply-{self._user_id}-{self._reply_routing_key}",
            exchange=self._exchange,
            routing_key=self._reply_routing_key,
            exclusive=True,
        )
        Consumer(channel, queues=[reply_queue], callbacks=[self._on_reply], accept=["json"], no_ack=True).consume()
        self._producer = Producer(channel, exchange=self._exchange, serializer="json", on_return=self._on_return)
        self._awaited_correlation_id: str | None = None
        self._reply: dict[str, Any] | None = None
        self._returned = False

    def call(self, service: str, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """The method's result; a remote error is raised as its own class when registered."""
        correlation_id = str(uuid.uuid4())
        self._awaited_correlation_id = correlation_id
        self._reply = None
        self._returned = False
        self._producer.publish(
            {"args": args, "kwargs": kwargs},
            routing_key=f"{service}.{method}",
            reply_to=self._reply_routing_key,
            correlation_id=correlation_id,
            # Validated by RabbitMQ: the service called knows who calls (servicekit.rpc's `callers=`).
            user_id=self._user_id,
            headers={"nameko.call_id_stack": [f"rpc_client.call.{correlation_id}"]},
            # Unroutable means no service queue is bound: the broker hands the request back.
            mandatory=True,
            # An unanswered request expires in the queue: a service that comes back
            # later must not act on a call whose caller was told it failed.
            expiration=self.timeout_seconds,
            # A request that lives for seconds need not survive a broker restart.
            delivery_mode="transient",
        )
        deadline = time.monotonic() + self.timeout_seconds
        while self._reply is None and not self._returned:
            remaining_seconds = deadline - time.monotonic()
            if remaining_seconds <= 0:
                raise self._no_answer(service)
            try:
                self._connection.drain_events(timeout=remaining_seconds)
            except TimeoutError:
                raise self._no_answer(service) from None
        if self._returned:
            raise Unavailable(f"the {service} service is not running")
        if self._reply["error"] is not None:
            raise deserialize(self._reply["error"])
        return self._reply["result"]

    def close(self) -> None:
        self._connection.release()

    def __enter__(self) -> "RpcClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _no_answer(self, service: str) -> Unavailable:
        return Unavailable(f"the {service} service did not answer within {self.timeout_seconds:g} s")

    def _on_reply(self, body: dict[str, Any], message) -> None:
        # A reply to an earlier call that timed out is dropped.
        if message.properties.get("correlation_id") == self._awaited_correlation_id:
            self._reply = body

    def _on_return(self, exception, exchange, routing_key, message) -> None:
        if message.properties.get("correlation_id") == self._awaited_correlation_id:
            self._returned = True
