"""Dead-lettered events are purged once they are older than the retention: they hold what events said about people.

A message a consumer could not handle waits in its subscription's dead-letter queue for someone to fix the cause
and replay it (`diasporahub dead-letters replay QUEUE`). Past `DIASPORAHUB_DEAD_LETTERS_KEPT_DAYS` (7) it is
dropped: every service with event consumers runs `DeadLetterPurge` (a shared extension of
servicekit.consumer.EventConsumer), which every `DIASPORAHUB_DEAD_LETTER_PURGE_EVERY_SECONDS` (an hour) takes the
expired messages off the head of each of its dead-letter queues, as its own broker user.

A dead-letter queue is in the order its messages died (a replayed message that fails again goes to the back), so
the purge stops at the first message young enough to keep and puts it back; nothing in that queue can expire
before that message does, so the queue is not looked at again until then. A message is thus put back about once
in its life, which matters on a quorum queue, where each return counts towards its delivery limit. The age is that
of the message's last death, which RabbitMQ records in its `x-death` header; a message without one (published
there by hand) is kept, and so is everything behind it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import eventlet
from kombu import Connection
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY
from nameko.extensions import SharedExtension
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topology import Subscription
from servicekit.bus import dead_letter_queue
from servicekit.rpc_connection import CONNECTION_ERRORS

log = logging.getLogger(__name__)


class DeadLetterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    dead_letters_kept_days: float = 7.0
    dead_letter_purge_every_seconds: float = 3600.0


def died_at(message) -> datetime | None:
    """When RabbitMQ last dead-lettered the message (the newest `time` of its `x-death` header), or None."""
    deaths = (message.headers or {}).get("x-death") or []
    times = [death["time"] for death in deaths if isinstance(death.get("time"), datetime)]
    # py-amqp decodes AMQP timestamps as naive datetimes in UTC.
    return max(times).replace(tzinfo=UTC) if times else None


@dataclass(frozen=True)
class Purged:
    dropped: int
    first_kept_died_at: datetime | None  # None: the queue is empty, or its first message has no death time


def purge_dead_letters(connection: Connection, subscription: Subscription, *, died_before: datetime) -> Purged:
    """Drop the messages of the subscription's dead-letter queue that died before `died_before`, oldest first,
    up to the first one to keep."""
    queue = dead_letter_queue(subscription)(connection.default_channel)
    dropped = 0
    while (message := queue.get(no_ack=False)) is not None:
        died = died_at(message)
        if died is None or died >= died_before:
            message.requeue()
            return Purged(dropped, died)
        message.ack()
        dropped += 1
    return Purged(dropped, None)


class DeadLetterPurge(SharedExtension):
    """One per service container: purges the dead-letter queues of the subscriptions its consumers register."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.clock = clock
        self.subscriptions: list[Subscription] = []
        self.next_look: dict[str, datetime] = {}  # per dead-letter queue: nothing in it expires before

    def register(self, subscription: Subscription) -> None:
        if subscription not in self.subscriptions:
            self.subscriptions.append(subscription)

    def start(self) -> None:
        self.settings = DeadLetterSettings()
        self.container.spawn_managed_thread(self._run, identifier="dead_letter_purge")

    def _run(self) -> None:
        while True:
            try:
                self.purge_expired()
            except CONNECTION_ERRORS as exc:
                log.warning("could not purge expired dead letters (tried again later): %s", exc)
            eventlet.sleep(self.settings.dead_letter_purge_every_seconds)

    def purge_expired(self) -> int:
        """Drop every registered dead-letter queue's messages older than the retention; return how many went."""
        now = self.clock()
        kept_for = timedelta(days=self.settings.dead_letters_kept_days)
        due = [
            subscription for subscription in self.subscriptions if self.next_look.get(subscription.queue, now) <= now
        ]
        if not due:
            return 0
        config = self.container.config
        dropped = 0
        with Connection(config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY)) as connection:
            for subscription in due:
                purged = purge_dead_letters(connection, subscription, died_before=now - kept_for)
                if purged.dropped:
                    log.info("purged %d expired dead letters of %s", purged.dropped, subscription.queue)
                first_kept = purged.first_kept_died_at
                self.next_look[subscription.queue] = now if first_kept is None else first_kept + kept_for
                dropped += purged.dropped
        return dropped
