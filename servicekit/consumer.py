"""A nameko entrypoint for events from a declared subscription: typed, retried, dead-lettered.

The method receives the validated event model. A failing handler is retried a
few times with a pause; then the message goes to the subscription's
dead-letter queue, never dropped and never looping forever. A handler that raises Unavailable (its database
restarting or its disk full, another service away) is not at fault, nor is the event: it is tried again, with
pauses that grow to UNAVAILABLE_PAUSE_MAX_SECONDS, for as long as that lasts, never dead-lettered for it. A repeat
of an event already handled (servicekit.database.AlreadyHandled) is acknowledged. Dead letters are dropped after a
retention period (servicekit.dead_letters).
"""

import logging
from functools import partial

import eventlet
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer
from pydantic import ValidationError

from contracts.errors import Unavailable
from contracts.events import EventEnvelope
from contracts.topology import Subscription
from servicekit import event_metrics
from servicekit.bus import subscription_queue
from servicekit.database import AlreadyHandled
from servicekit.dead_letters import DeadLetterPurge
from servicekit.queue_consumer import ResilientQueueConsumer

log = logging.getLogger(__name__)
UNAVAILABLE_PAUSE_MAX_SECONDS = 10.0


class DeadLetteringQueueConsumer(ResilientQueueConsumer):
    """A QueueConsumer that survives a broker restart, and sends a message whose body cannot be decoded (not JSON,
    say) to its dead-letter queue: nameko's would leave it unacknowledged on the channel for ever, neither handled
    nor dead-lettered."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = partial(dead_letter_undecodable, consumer.queues[0].name)
        return consumers


def dead_letter_undecodable(queue: str, message, exc: Exception) -> None:
    log.error("dead-lettering a message on %s that cannot be decoded: %s", queue, exc)
    event_metrics.event_dead_lettered(queue, "undecodable")
    message.reject(requeue=False)


class EventConsumer(Consumer):
    queue_consumer = DeadLetteringQueueConsumer()
    # Dead letters past their retention are dropped by one purge per service container (servicekit.dead_letters).
    dead_letter_purge = DeadLetterPurge()

    def __init__(self, subscription: Subscription, *, attempts: int = 3, retry_delay_seconds: float = 0.5, **kwargs):
        self.subscription = subscription
        self.attempts = attempts
        self.retry_delay_seconds = retry_delay_seconds
        self.event_types = {event_type.routing_key: event_type for event_type in subscription.events}
        expected = tuple(kwargs.pop("expected_exceptions", ())) + (AlreadyHandled,)
        super().__init__(subscription_queue(subscription), expected_exceptions=expected, **kwargs)

    def setup(self) -> None:
        # Built again now: the queue's arguments come from the settings of the process running it (QueueSettings).
        self.queue = subscription_queue(self.subscription)
        super().setup()
        self.dead_letter_purge.register(self.subscription)

    def handling(self, worker_ctx) -> tuple[str, EventEnvelope]:
        """What servicekit.database records as handled by this worker's unit of work."""
        return self.subscription.queue, worker_ctx.args[0]

    def handle_message(self, body, message):
        try:
            event = self._parse(body, message)
        except (ValidationError, LookupError) as exc:
            log.error("dead-lettering an unreadable message on %s: %s", self.subscription.queue, exc)
            event_metrics.event_dead_lettered(self.subscription.queue, "unreadable")
            self._reject(message)
            return
        self._spawn(message, event, attempt=1)

    def _parse(self, body, message) -> EventEnvelope:
        routing_key = message.delivery_info["routing_key"]
        event_type = self.event_types.get(routing_key)
        if event_type is None:
            raise LookupError(f"{self.subscription.queue} does not subscribe to {routing_key!r}")
        return event_type.model_validate(body)

    def _spawn(self, message, event: EventEnvelope, attempt: int, waits: int = 0) -> None:
        try:
            self.container.spawn_worker(
                self,
                (event,),
                {},
                context_data=self.unpack_message_headers(message),
                handle_result=partial(self._settle, message, event, attempt, waits),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def _settle(self, message, event, attempt, waits, worker_ctx, result=None, exc_info=None):
        if exc_info is None or isinstance(exc_info[1], AlreadyHandled):
            event_metrics.event_consumed(self.subscription.queue, repeat=exc_info is not None)
            self.queue_consumer.ack_message(message)
        elif isinstance(exc_info[1], Unavailable):
            pause = min(self.retry_delay_seconds * 2 ** min(waits, 16), UNAVAILABLE_PAUSE_MAX_SECONDS)
            log.warning("event %s on %s waits %.1f s: %s", event.event_id, self.subscription.queue, pause, exc_info[1])
            event_metrics.event_retried(self.subscription.queue)
            self.container.spawn_managed_thread(partial(self._retry, pause, message, event, attempt, waits + 1))
        elif attempt < self.attempts:
            event_metrics.event_retried(self.subscription.queue)
            pause = self.retry_delay_seconds * attempt
            self.container.spawn_managed_thread(partial(self._retry, pause, message, event, attempt + 1, waits))
        else:
            log.error(
                "dead-lettering event %s on %s after %d attempts: %r",
                event.event_id,
                self.subscription.queue,
                attempt,
                exc_info[1],
            )
            event_metrics.event_dead_lettered(self.subscription.queue, "failed")
            self._reject(message)
        return result, exc_info

    def _retry(self, pause: float, message, event, attempt: int, waits: int) -> None:
        eventlet.sleep(pause)
        self._spawn(message, event, attempt, waits)

    def _reject(self, message) -> None:
        self.queue_consumer.reject_message(message)


event_consumer = EventConsumer.decorator
