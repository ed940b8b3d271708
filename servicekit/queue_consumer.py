"""nameko's QueueConsumer, made to survive RabbitMQ going away while workers run (a restart, connections dropped), and
to acknowledge handled messages a few at a time."""

import logging
from collections.abc import Callable
from functools import partial

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.semaphore import Semaphore
from nameko.messaging import QueueConsumer

log = logging.getLogger(__name__)

# How long a handled message's acknowledgement may wait for others to go with it. Each acknowledgement was a write
# to the socket of its own: 15-20 % of what an event cost search and messaging (py-spy while
# benchmarks/registration_load.py ran).
ACK_WINDOW_SECONDS = 0.02


class ResilientQueueConsumer(QueueConsumer):
    """Acknowledging, requeueing or rejecting a message whose connection has just broken is not an error.

    nameko skips a message whose channel is already closed, and ignores py-amqp's ConnectionError, but not the
    socket's own (ConnectionResetError, BrokenPipeError): a worker that finished while RabbitMQ was restarting
    raised it from its acknowledgement, and nameko killed the whole container for it. The broker gives such a
    message again once the consumer has reconnected, as it gives back every message not acknowledged on a closed
    channel; our consumers drop repeats.

    Acknowledgements wait up to ACK_WINDOW_SECONDS and go together: the handled messages delivered before every
    message still being handled in one acknowledgement (`multiple`), the others one by one. They go at once when
    the channel's unsettled messages near the prefetch count (the broker would stop delivering) or consuming is
    ending, and always before the consuming thread closes its connection, whoever told it to stop: nameko's stop
    or kill, or nameko's pytest plugin, which sets `should_stop` before the containers are killed (an
    acknowledgement still waiting then was lost, and the next test's container got the request again). Requeues
    and rejections go at once, never in the middle of a flush.
    """

    def __init__(self) -> None:
        super().__init__()
        self._unsettled: dict[object, set[int]] = {}  # channel → delivery tags handed to workers, not yet settled
        self._acks_due: dict[object, dict[int, object]] = {}  # channel → delivery tag → handled message
        self._ack_flush: eventlet.greenthread.GreenThread | None = None
        self._flush_at_once = False  # the flush scheduled goes at the hub's next turn, with every ack due by then
        self._flushing = Semaphore()

    def handle_message(self, provider, body, message) -> None:
        self._unsettled.setdefault(message.channel, set()).add(message.delivery_tag)
        super().handle_message(provider, body, message)

    def ack_message(self, message) -> None:
        channel = message.channel
        self._acks_due.setdefault(channel, {})[message.delivery_tag] = message
        if self.should_stop or len(self._unsettled.get(channel, ())) >= self.prefetch_count - 1:
            if not self._flush_at_once:
                self._schedule_flush(0)
        elif self._ack_flush is None:
            self._schedule_flush(ACK_WINDOW_SECONDS)

    def requeue_message(self, message) -> None:
        with self._flushing:
            self._forget(message)
            self._settle(message, "requeue", message.requeue)

    def reject_message(self, message) -> None:
        """Rejected without requeueing: to the queue's dead-letter exchange."""
        with self._flushing:
            self._forget(message)
            self._settle(message, "reject", lambda: message.reject(requeue=False))

    def flush_acks(self) -> None:
        """Send the acknowledgements due. One flush at a time: a flush whose socket write yields has taken its
        messages out of the unsettled ones, and a `multiple` ack of another flush must not cover them before they
        are sent (RabbitMQ closes a channel acknowledged twice for one message, and gives back all it had sent)."""
        with self._flushing:
            self._flush_acks()

    def _flush_acks(self) -> None:
        if self._ack_flush is not None:
            self._ack_flush.cancel()
            self._ack_flush = None
            self._flush_at_once = False
        acks_due, self._acks_due = self._acks_due, {}
        for channel, due in acks_due.items():
            unsettled = self._unsettled.get(channel, set())
            unsettled.difference_update(due)
            handled_before = min(unsettled, default=float("inf"))
            together = [tag for tag in due if tag < handled_before]
            for tag in due.keys() - together:
                self._settle(due[tag], "acknowledge", due[tag].ack)
            if together:
                last = due[max(together)]
                self._settle(last, "acknowledge", partial(last.ack, multiple=len(together) > 1))
        for channel in [channel for channel in self._unsettled if not channel.connection]:
            del self._unsettled[channel]  # its messages come again on the new channel

    def on_consume_end(self, connection, channel) -> None:
        """kombu calls this in the consuming thread once its loop has ended, before it closes the connection."""
        super().on_consume_end(connection, channel)
        self.flush_acks()

    def _schedule_flush(self, delay_seconds: float) -> None:
        """In a greenthread of its own: a worker killed in the middle of a flush would lose the acks it had taken."""
        if self._ack_flush is not None:
            self._ack_flush.cancel()
        self._ack_flush = eventlet.spawn_after(delay_seconds, self.flush_acks)
        self._flush_at_once = delay_seconds == 0

    def _forget(self, message) -> None:
        self._unsettled.get(message.channel, set()).discard(message.delivery_tag)

    @staticmethod
    def _settle(message, what: str, settle: Callable[[], None]) -> None:
        if not message.channel.connection:
            return  # its channel is gone: the broker gives the message again
        try:
            settle()
        except (OSError, AmqpConnectionError) as exc:
            log.warning("could not %s a message, its connection broke (%s): the broker will give it again", what, exc)
