"""Events through the real broker into the search service: none lost, none applied twice, failures kept."""

from uuid import uuid4

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import create_engine, text

from contracts.accounts import Principal
from contracts.search import AssociationQuery
from contracts.topology import SEARCH_INDEXER
from servicekit.bus import dead_letter_queue, event_exchange, subscription_queue
from servicekit.consumer import event_consumer
from servicekit.migrations import upgrade
from servicekit.rpc import call_service
from servicekit.settings import BusSettings
from services.search.service import SearchService
from tests.integration.factories import association_event


@pytest.fixture
def search_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    upgrade("services.search", url)
    monkeypatch.setenv("SEARCH_DATABASE_URL", url)
    return url


def publish(amqp_uri, *events) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        for event in events:
            producer.publish(
                event.model_dump(mode="json"),
                exchange=event_exchange(event.source),
                routing_key=event.routing_key,
                serializer="json",
            )


def queue_depth(amqp_uri, queue) -> int:
    with Connection(amqp_uri) as connection:
        return queue(connection.default_channel).queue_declare(passive=True).message_count


def wait_until(condition, timeout_seconds: float = 10.0) -> None:
    with eventlet.Timeout(timeout_seconds):
        while not condition():
            eventlet.sleep(0.05)


CELL_STAFF = Principal(account_id=uuid4(), email="cell@example.org", display_name="Cell", is_cell_staff=True)


def search(amqp_uri, **query) -> dict:
    """As Cell staff, who see the pending associations these events register."""
    payload = AssociationQuery(**query).model_dump(mode="json", exclude_defaults=True)
    principal = CELL_STAFF.model_dump(mode="json")
    return call_service(BusSettings(amqp_uri=amqp_uri), "search", "search_associations", payload, principal)


def stored(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()
    finally:
        engine.dispose()


def test_an_event_published_before_its_consumer_starts_waits_for_it(
    bus, amqp_uri, nameko_config, search_database, container_factory
):
    registered = association_event(name="Ṭhalai Mizo Fellowship")
    publish(amqp_uri, registered)

    container_factory(SearchService, nameko_config).start()

    wait_until(lambda: search(amqp_uri, q="thalai")["total"] == 1)
    assert search(amqp_uri, q="thalai")["items"][0]["id"] == str(registered.aggregate_id)


def test_a_repeated_or_older_event_changes_nothing(bus, amqp_uri, nameko_config, search_database, container_factory):
    first = association_event(name="Mizo Fellowship Perth")
    second = association_event(association_id=first.aggregate_id, version=2, name="Mizo Fellowship Western Australia")
    container_factory(SearchService, nameko_config).start()

    publish(amqp_uri, first, second, first, second)
    wait_until(lambda: len(stored(search_database, "SELECT event_id FROM handled_events")) == 2)
    wait_until(lambda: queue_depth(amqp_uri, subscription_queue(SEARCH_INDEXER)) == 0)

    assert stored(search_database, "SELECT json_extract(document, '$.name'), version FROM associations") == [
        ("Mizo Fellowship Western Australia", 2)
    ]
    assert search(amqp_uri, q="perth")["total"] == 0


class BrokenIndexer:
    name = "broken_indexer"
    attempts_seen: list[str] = []

    @event_consumer(SEARCH_INDEXER, attempts=3, retry_delay_seconds=0.05)
    def index_association(self, event):
        BrokenIndexer.attempts_seen.append(str(event.event_id))
        raise RuntimeError("the index is broken")


def test_a_failing_handler_is_retried_then_dead_lettered(bus, amqp_uri, nameko_config, container_factory):
    BrokenIndexer.attempts_seen.clear()
    container_factory(BrokenIndexer, nameko_config).start()
    registered = association_event()

    publish(amqp_uri, registered)

    wait_until(lambda: queue_depth(amqp_uri, dead_letter_queue(SEARCH_INDEXER)) == 1)
    assert BrokenIndexer.attempts_seen == [str(registered.event_id)] * 3
    assert queue_depth(amqp_uri, subscription_queue(SEARCH_INDEXER)) == 0
    with Connection(amqp_uri) as connection:
        kept = dead_letter_queue(SEARCH_INDEXER)(connection.default_channel).get(no_ack=True)
    assert kept.payload["event_id"] == str(registered.event_id)


def test_an_unreadable_event_is_dead_lettered_at_once(bus, amqp_uri, nameko_config, container_factory):
    BrokenIndexer.attempts_seen.clear()
    container_factory(BrokenIndexer, nameko_config).start()
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(
            {"event_id": "not-a-uuid"},
            exchange=event_exchange("registry"),
            routing_key="association_registered.v1",
            serializer="json",
        )

    wait_until(lambda: queue_depth(amqp_uri, dead_letter_queue(SEARCH_INDEXER)) == 1)
    assert BrokenIndexer.attempts_seen == []
