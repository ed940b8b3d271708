"""The RabbitMQ topology of contracts.topology as kombu objects, and its declaration."""

from kombu import Connection, Exchange, Queue, binding

from contracts.topology import DEAD_LETTER_EXCHANGE, SUBSCRIPTIONS, Subscription, events_exchange


class BrokerUnreachable(Exception):
    """RabbitMQ did not answer."""


def event_exchange(source: str) -> Exchange:
    return Exchange(events_exchange(source), type="topic", durable=True)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)


def subscription_queue(subscription: Subscription) -> Queue:
    """A subscriber's durable queue; a message it rejects goes to its dead-letter queue."""
    return Queue(
        subscription.queue,
        bindings=[
            binding(event_exchange(event_type.source), routing_key=event_type.routing_key)
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


def declare_topology(connection: Connection) -> None:
    """Declare every exchange, queue and binding; safe to repeat."""
    channel = connection.default_channel
    dead_letter_exchange()(channel).declare()
    sources = {event_type.source for sub in SUBSCRIPTIONS for event_type in sub.events}
    for source in sorted(sources):
        event_exchange(source)(channel).declare()
    for subscription in SUBSCRIPTIONS:
        dead_letter_queue(subscription)(channel).declare()
        subscription_queue(subscription)(channel).declare()


def check_broker(amqp_uri: str, timeout_seconds: float = 3.0) -> None:
    """Raise BrokerUnreachable with a sentence a person can act on."""
    connection = Connection(amqp_uri, connect_timeout=timeout_seconds)
    try:
        connection.ensure_connection(max_retries=1, timeout=timeout_seconds)
    except Exception as exc:
        raise BrokerUnreachable(f"RabbitMQ does not answer at {connection.as_uri()} ({exc})") from exc
    finally:
        connection.release()
