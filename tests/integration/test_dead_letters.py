"""Dead-lettered events are counted, and replayed onto their queue once the cause is fixed."""

from kombu import Connection

from contracts.topology import SEARCH_INDEXER
from diasporahub.dead_letters import counts, replay
from servicekit.bus import dead_letter_exchange, subscription_queue
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
