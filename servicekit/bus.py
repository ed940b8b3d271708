"""The RabbitMQ topology of contracts.topology as kombu objects, and its declaration."""

import logging
from contextlib import suppress
from typing import Literal

from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Connection, Exchange, Queue, binding
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topology import DEAD_LETTER_EXCHANGE, SUBSCRIPTIONS, Subscription, events_exchange
from servicekit.broker_access import RPC_EXCHANGE
from servicekit.settings import BusSettings

log = logging.getLogger(__name__)


class BrokerUnreachable(Exception):
    """RabbitMQ did not answer."""


class QueueSettings(BaseSettings):
    """How the queues are declared (`DIASPORAHUB_QUEUE_TYPE`, ...); every process must read the same values, since
    RabbitMQ refuses to declare an existing queue with other arguments (deploy/README.md, Queues).

    `queue_type` is `classic` (the embedded default) or `quorum` (production: replicated, and a message delivered
    `delivery_limit` times without being acknowledged is dead-lettered, so a message that crashes its consumer
    cannot loop). Subscription queues and their dead-letter queues take it; RPC queues stay classic (a request is
    worth seconds) and hold at most `rpc_queue_max_length` requests (the oldest is dropped past it), each for at
    most `rpc_queue_message_ttl_seconds`: a backlog cannot grow without bound.
    """

    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    queue_type: Literal["classic", "quorum"] = "classic"
    delivery_limit: int = 10
    rpc_queue_max_length: int = 1000
    rpc_queue_message_ttl_seconds: float = 30.0

    def durable_arguments(self) -> dict[str, object]:
        if self.queue_type == "quorum":
            return {"x-queue-type": "quorum", "x-delivery-limit": self.delivery_limit}
        return {}


def event_exchange(source: str) -> Exchange:
    return Exchange(events_exchange(source), type="topic", durable=True)


def rpc_exchange() -> Exchange:
    """nameko's RPC exchange, as nameko declares it."""
    return Exchange(RPC_EXCHANGE, type="topic", durable=True)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)


def subscription_queue(subscription: Subscription) -> Queue:
    """A subscriber's durable queue; a message it rejects (or, on a quorum queue, one delivered too often) goes to
    its dead-letter queue."""
    return Queue(
        subscription.queue,
        bindings=[
            # The publisher's exchange is declared by `prepare` (or its publisher), not by each subscriber, whose
            # broker user may only bind to it.
            binding(_not_declared(event_exchange(event_type.source)), routing_key=event_type.routing_key)
            for event_type in subscription.events
        ],
        durable=True,
        queue_arguments={
            **QueueSettings().durable_arguments(),
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": subscription.dead_letter_queue,
        },
    )


def dead_letter_queue(subscription: Subscription) -> Queue:
    queue_type = QueueSettings().queue_type
    return Queue(
        subscription.dead_letter_queue,
        exchange=dead_letter_exchange(),
        routing_key=subscription.dead_letter_queue,
        durable=True,
        queue_arguments={"x-queue-type": queue_type} if queue_type == "quorum" else None,
    )


def rpc_queue(service: str) -> Queue:
    """The queue of a service's RPC requests, as nameko names and binds it, bounded in length and age."""
    settings = QueueSettings()
    return Queue(
        f"rpc-{service}",
        exchange=rpc_exchange(),
        routing_key=f"{service}.*",
        durable=True,
        queue_arguments={
            "x-max-length": settings.rpc_queue_max_length,
            "x-message-ttl": round(settings.rpc_queue_message_ttl_seconds * 1000),
        },
    )


def declare_rpc_queues(connection: Connection, services: tuple[str, ...]) -> None:
    """Declare each service's RPC queue (`diasporahub prepare`, before the services start). One declared before with
    other arguments (by an older version, or other `DIASPORAHUB_RPC_QUEUE_…` settings) is deleted and declared
    again: what it held were requests whose callers have given up."""
    for service in services:
        queue = rpc_queue(service)
        channel = connection.channel()
        try:
            queue(channel).declare()
        except PreconditionFailed:
            log.warning("%s was declared with other arguments: deleting it and declaring it again", queue.name)
            channel = connection.channel()  # the refusal closed the channel it happened on
            queue(channel).delete()
            queue(channel).declare()
        finally:
            with suppress(Exception):
                channel.close()


def _not_declared(exchange: Exchange) -> Exchange:
    exchange.no_declare = True
    return exchange


def declare_topology(connection: Connection) -> None:
    """Declare every exchange, queue and binding that the connection's broker user may declare; safe to repeat.

    `diasporahub prepare` declares them all (as the operator's user). A service's own user may declare only its
    own: what it may not declare is left to `prepare`, with a warning if it does not exist yet.
    """
    entities: list[Exchange | Queue] = [rpc_exchange(), dead_letter_exchange()]
    sources = {event_type.source for sub in SUBSCRIPTIONS for event_type in sub.events}
    entities += [event_exchange(source) for source in sorted(sources)]
    for subscription in SUBSCRIPTIONS:
        entities += [dead_letter_queue(subscription), subscription_queue(subscription)]
    for entity in entities:
        _declare_if_allowed(connection, entity)


def _declare_if_allowed(connection: Connection, entity: Exchange | Queue) -> None:
    # A refusal closes the channel it happens on: each declaration has a channel of its own.
    channel = connection.channel()
    try:
        entity(channel).declare()
        return
    except AccessRefused:
        pass
    finally:
        with suppress(Exception):
            channel.close()
    channel = connection.channel()
    try:
        if isinstance(entity, Exchange):
            entity(channel).declare(passive=True)
        else:
            entity(channel).queue_declare(passive=True)
    except NotFound:
        log.warning("%s does not exist and this broker user may not declare it: run `diasporahub prepare`", entity.name)
    finally:
        with suppress(Exception):
            channel.close()


def check_broker(amqp_uri: str, timeout_seconds: float = 3.0) -> None:
    """Raise BrokerUnreachable with a sentence a person can act on."""
    tls = BusSettings(amqp_uri=amqp_uri).ssl_options()
    connection = Connection(amqp_uri, connect_timeout=timeout_seconds, ssl=tls)
    try:
        connection.ensure_connection(max_retries=1, timeout=timeout_seconds)
    except Exception as exc:
        raise BrokerUnreachable(f"RabbitMQ does not answer at {connection.as_uri()} ({exc})") from exc
    finally:
        connection.release()
