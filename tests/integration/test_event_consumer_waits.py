"""An event whose handler finds what it needs away (Unavailable: its database restarting) waits and is handled once
that is back, however many attempts that takes; it is never dead-lettered for it."""

from contracts.errors import Unavailable
from contracts.topology import SEARCH_INDEXER
from servicekit.bus import dead_letter_queue, subscription_queue
from servicekit.consumer import event_consumer
from tests.integration.factories import association_event
from tests.integration.test_event_consumer import publish, queue_depth, wait_until

AWAY_FOR_ATTEMPTS = 6  # twice the attempts a failing handler gets before its event is dead-lettered


class IndexerWhoseDatabaseRestarts:
    name = "indexer_whose_database_restarts"
    attempts_seen: list[str] = []
    handled: list[str] = []

    @event_consumer(SEARCH_INDEXER, attempts=3, retry_delay_seconds=0.02)
    def index_association(self, event):
        IndexerWhoseDatabaseRestarts.attempts_seen.append(str(event.event_id))
        if len(IndexerWhoseDatabaseRestarts.attempts_seen) <= AWAY_FOR_ATTEMPTS:
            raise Unavailable("The service cannot reach its database just now (it may be restarting).")
        IndexerWhoseDatabaseRestarts.handled.append(str(event.event_id))


def test_an_event_waits_while_its_handler_is_unavailable_and_is_handled_after(
    bus, amqp_uri, nameko_config, container_factory
):
    IndexerWhoseDatabaseRestarts.attempts_seen.clear()
    IndexerWhoseDatabaseRestarts.handled.clear()
    container_factory(IndexerWhoseDatabaseRestarts, nameko_config).start()
    registered = association_event()

    publish(amqp_uri, registered)

    wait_until(lambda: IndexerWhoseDatabaseRestarts.handled == [str(registered.event_id)], timeout_seconds=30)
    assert IndexerWhoseDatabaseRestarts.attempts_seen == [str(registered.event_id)] * (AWAY_FOR_ATTEMPTS + 1)
    wait_until(lambda: queue_depth(amqp_uri, subscription_queue(SEARCH_INDEXER)) == 0)
    assert queue_depth(amqp_uri, dead_letter_queue(SEARCH_INDEXER)) == 0
