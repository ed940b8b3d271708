"""nameko's QueueConsumer, made to survive RabbitMQ going away while workers run (a restart, connections dropped)."""

import logging

from amqp.exceptions import ConnectionError as AmqpConnectionError
from nameko.messaging import QueueConsumer

log = logging.getLogger(__name__)


class ResilientQueueConsumer(QueueConsumer):
    """Acknowledging, requeueing or rejecting a message whose connection has just broken is not an error.

    nameko skips a message whose channel is already closed, and ignores py-amqp's ConnectionError, but not the
    socket's own (ConnectionResetError, BrokenPipeError): a worker that finished while RabbitMQ was restarting
    raised it from its acknowledgement, and nameko killed the whole container for it. The broker gives such a
    message again once the consumer has reconnected, as it gives back every message not acknowledged on a closed
    channel; our consumers drop repeats.
    """

    def ack_message(self, message) -> None:
        self._settle(message, "acknowledge", message.ack)

    def requeue_message(self, message) -> None:
        self._settle(message, "requeue", message.requeue)

    def reject_message(self, message) -> None:
        """Rejected without requeueing: to the queue's dead-letter exchange."""
        self._settle(message, "reject", lambda: message.reject(requeue=False))

    @staticmethod
    def _settle(message, what: str, settle) -> None:
        if not message.channel.connection:
            return  # its channel is gone: the broker gives the message again
        try:
            settle()
        except (OSError, AmqpConnectionError) as exc:
            log.warning("could not %s a message, its connection broke (%s): the broker will give it again", what, exc)
