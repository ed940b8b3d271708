"""The RabbitMQ topology of contracts.topology as kombu objects, and its declaration."""

import logging
from contextlib import suppress

from amqp.exceptions import AccessRefused, NotFound
from kombu import Connection, Exchange, Queue, binding

from contracts.topology import DEAD_LETTER_EXCHANGE, SUBSCRIPTIONS, Subscription, events_exchange
from servicekit.broker_access import RPC_EXCHANGE
from servicekit.settings import BusSettings

log = logging.getLogger(__name__)


class BrokerUnreachable(Exception):
    """RabbitMQ did not answer."""


def event_exchange(source: str) -> Exchange:
    return Exchange(events_exchange(source), type="topic", durable=True)


def rpc_exchange() -> Exchange:
    """nameko's RPC exchange, as nameko declares it."""
    return Exchange(RPC_EXCHANGE, type="topic", durable=True)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)


def subscription_queue(subscription: Subscription) -> Queue:
    """A subscriber's durable queue; a message it rejects goes to its dead-letter queue."""
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
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": subscription.dead_letter_queue,
        },
    )


def dead_letter_queue(subscription: Subscription) -> Queue:
    return Queue(
        subscription.dead_letter_queue,
        exchange=dead_letter_exchange(),
        routing_key=subscription.dead_letter_queue,
        durable=True,
    )


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
