"""Dead-lettered events are counted, replayed onto their queue once the cause is fixed, and purged once expired."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import eventlet
from kombu import Connection

from contracts.topology import SEARCH_INDEXER
from diasporahub.dead_letters import counts, replay
from servicekit.bus import dead_letter_exchange, dead_letter_queue, subscription_queue
from servicekit.consumer import event_consumer
from servicekit.dead_letters import DeadLetterPurge, DeadLetterSettings, purge_dead_letters
from tests.integration.factories import association_event


def test_a_dead_lettered_event_is_counted_then_replayed_onto_its_queue(bus, amqp_uri):
    failed = association_event(name="Mizo Fellowship Seoul")
    # With confirms, the message is in its queue when publish returns.
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            failed.model_dump(mode="json"),
            exchange=dead_letter_exchange(),
            routing_key=SEARCH_INDEXER.dead_letter_queue,
            serializer="json",
            headers={"x-death": [{"queue": SEARCH_INDEXER.queue, "count": 1}], "nameko.call_id_stack": ["a.b.c"]},
        )

        assert counts(connection)[SEARCH_INDEXER.dead_letter_queue] == 1
        assert replay(connection, SEARCH_INDEXER.queue) == 1
        assert counts(connection)[SEARCH_INDEXER.dead_letter_queue] == 0

        back = subscription_queue(SEARCH_INDEXER)(connection.default_channel).get(no_ack=True)
    assert back.payload["event_id"] == str(failed.event_id)
    assert back.headers == {"nameko.call_id_stack": ["a.b.c"]}


def dead_letter(connection: Connection, event) -> None:
    """As a consumer's last failure does: the message is rejected from its queue, and RabbitMQ stamps `x-death`.
    Returns once it is in the dead-letter queue (the broker moves it there on its own time)."""
    waiting = counts(connection)[SEARCH_INDEXER.dead_letter_queue]
    connection.Producer().publish(
        event.model_dump(mode="json"), exchange="", routing_key=SEARCH_INDEXER.queue, serializer="json"
    )
    subscription_queue(SEARCH_INDEXER)(connection.default_channel).get(no_ack=False).reject(requeue=False)
    with eventlet.Timeout(10):
        while counts(connection)[SEARCH_INDEXER.dead_letter_queue] == waiting:
            eventlet.sleep(0.01)


def test_dead_letters_older_than_the_retention_are_purged_oldest_first_and_younger_ones_kept(bus, amqp_uri):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        dead_letter(connection, association_event(name="Mizo Fellowship Busan"))
        dead_letter(connection, association_event(name="Mizo Fellowship Incheon"))
        # Published there by hand, it has no death time: it is kept, and whatever is behind it.
        connection.Producer().publish(
            association_event(name="Mizo Fellowship Daegu").model_dump(mode="json"),
            exchange=dead_letter_exchange(),
            routing_key=SEARCH_INDEXER.dead_letter_queue,
            serializer="json",
        )
        dead_letter(connection, association_event(name="Mizo Fellowship Ulsan"))
        now = datetime.now(UTC)

        kept_all = purge_dead_letters(connection, SEARCH_INDEXER, died_before=now - timedelta(days=7))
        assert kept_all.dropped == 0
        assert now - timedelta(minutes=1) < kept_all.first_kept_died_at <= now  # nothing expires before it does
        assert purge_dead_letters(connection, SEARCH_INDEXER, died_before=now + timedelta(minutes=1)).dropped == 2

        # Read on the purge's channel: a message it put back is in place for it at once (the broker's count of the
        # queue may lag behind for a moment).
        dead = dead_letter_queue(SEARCH_INDEXER)(connection.default_channel)
        kept = [message.payload["association"]["name"] for message in iter(lambda: dead.get(no_ack=True), None)]
    assert kept == ["Mizo Fellowship Daegu", "Mizo Fellowship Ulsan"]


class QuietIndexer:
    name = "quiet_indexer"

    @event_consumer(SEARCH_INDEXER)
    def index_association(self, event):
        """Consumes nothing in these tests: only its container's dead-letter purge is at work."""


def test_a_service_purges_its_expired_dead_letters_on_a_timer(
    bus, amqp_uri, nameko_config, container_factory, monkeypatch
):
    monkeypatch.setenv("DIASPORAHUB_DEAD_LETTERS_KEPT_DAYS", "0")
    monkeypatch.setenv("DIASPORAHUB_DEAD_LETTER_PURGE_EVERY_SECONDS", "0.1")
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        dead_letter(connection, association_event(name="Mizo Fellowship Gwangju"))
        assert counts(connection)[SEARCH_INDEXER.dead_letter_queue] == 1

        container_factory(QuietIndexer, nameko_config).start()

        with eventlet.Timeout(10):
            while counts(connection)[SEARCH_INDEXER.dead_letter_queue]:
                eventlet.sleep(0.05)
        assert counts(connection)[SEARCH_INDEXER.dead_letter_queue] == 0


def test_a_queue_is_looked_at_again_only_when_its_first_kept_message_expires(bus, amqp_uri, nameko_config):
    """So that a message is put back about once in its life (on a quorum queue each return counts)."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        dead_letter(connection, association_event(name="Mizo Fellowship Jeju"))
    now = datetime.now(UTC)
    clock = iter([now, now + timedelta(days=6), now + timedelta(days=7, minutes=1)])
    purge = DeadLetterPurge(clock=lambda: next(clock))
    purge.container = SimpleNamespace(config=nameko_config)  # what the purge reads of its service container
    purge.settings = DeadLetterSettings(dead_letters_kept_days=7)
    purge.register(SEARCH_INDEXER)

    assert purge.purge_expired() == 0
    next_look = purge.next_look[SEARCH_INDEXER.queue]
    assert now + timedelta(days=7) - timedelta(minutes=1) < next_look <= now + timedelta(days=7)
    purge.container = SimpleNamespace(config={})  # six days on it must not even connect
    assert purge.purge_expired() == 0
    purge.container = SimpleNamespace(config=nameko_config)
    assert purge.purge_expired() == 1
