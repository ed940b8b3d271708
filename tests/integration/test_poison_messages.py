"""A message no consumer can read — a body that is not JSON, or an event of a version it does not know — goes to
the consumer's dead-letter queue (not left unacknowledged), and the consumer stays up."""

import json

import eventlet
import pytest
from kombu import Connection

from contracts.topology import SEARCH_INDEXER
from diasporahub.dead_letters import counts
from servicekit.bus import event_exchange, subscription_queue
from servicekit.settings import BusSettings
from services.search.service import SearchService
from tests.integration.factories import association_event
from tests.integration.test_event_consumer import publish, search_database  # noqa: F401


@pytest.mark.parametrize(
    "body, routing_key",
    [(b"{not json", "association_registered.v1"), (json.dumps({"event_id": "x"}), "association_registered.v99")],
    ids=["not JSON", "unknown version"],
)
def test_a_poison_message_is_dead_lettered_and_the_consumer_stays_up(
    bus, amqp_uri, container_factory, search_database, body, routing_key  # noqa: F811
):
    container = container_factory(SearchService, BusSettings(amqp_uri=amqp_uri).nameko_config())
    container.start()
    event = association_event(name="Mizo Fellowship Perth")
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        target = {"exchange": "", "routing_key": SEARCH_INDEXER.queue} if routing_key.endswith("v99") else {
            "exchange": event_exchange(event.source), "routing_key": routing_key}  # fmt: skip
        connection.Producer().publish(body, content_type="application/json", content_encoding="utf-8", **target)
        publish(amqp_uri, event)
        with eventlet.Timeout(10):
            while counts(connection)[SEARCH_INDEXER.dead_letter_queue] == 0:
                eventlet.sleep(0.05)
            queue = subscription_queue(SEARCH_INDEXER)(connection.default_channel)
            while queue.queue_declare(passive=True).message_count:
                eventlet.sleep(0.05)
        dead = counts(connection)[SEARCH_INDEXER.dead_letter_queue]
    assert dead == 1
    assert not container._died.ready()
