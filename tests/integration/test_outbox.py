"""The outbox on SQLite and PostgreSQL alike: one transaction for state and event, relayed with confirms."""

import eventlet
import pytest
from amqp.exceptions import MessageNacked
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from contracts.topology import SEARCH_INDEXER
from servicekit.bus import subscription_queue
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from servicekit.outbox import ConfirmedPublisher, OutboxRelay, unsent_count
from servicekit.sqltypes import utcnow
from services.registry.associations import domain
from services.registry.associations.repository import AssociationRepository
from services.registry.db import AssociationRecord, Base
from tests.integration.factories import draft


@pytest.fixture
def registry_engine(database_url):
    upgrade("services.registry", database_url)
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def unit_of_work(engine) -> UnitOfWork:
    return UnitOfWork(
        sessionmaker(engine, expire_on_commit=False),
        Base.metadata,
        repositories={"associations": AssociationRepository},
    )


def register(engine, name: str):
    association, registered = domain.register(
        draft(name=name), now=utcnow(), locate_city=lambda city, country: None, actor=None
    )
    with unit_of_work(engine) as work:
        work.associations.add(association)
        work.add_event(registered)
    return registered


def association_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(AssociationRecord)).scalar_one()


def drain(amqp_uri, queue) -> list:
    messages = []
    with Connection(amqp_uri) as connection:
        bound = queue(connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            messages.append(message)
    return messages


def test_state_and_event_commit_together(registry_engine):
    register(registry_engine, "Mizo Fellowship Singapore")

    assert association_count(registry_engine) == 1
    assert unsent_count(registry_engine, Base.metadata) == 1


def test_a_failed_transaction_keeps_neither_state_nor_event(registry_engine):
    association, registered = domain.register(draft(), now=utcnow(), locate_city=lambda city, country: None, actor=None)
    with pytest.raises(RuntimeError), unit_of_work(registry_engine) as work:
        work.associations.add(association)
        work.add_event(registered)
        raise RuntimeError("the handler failed after writing")

    assert association_count(registry_engine) == 0
    assert unsent_count(registry_engine, Base.metadata) == 0


@pytest.mark.parametrize("confirm_each", [False, True], ids=["confirms-per-batch", "confirm-publish-connection"])
def test_relay_publishes_in_order_and_marks_sent(registry_engine, bus, amqp_uri, confirm_each):
    events = [register(registry_engine, f"Association {number}") for number in range(5)]
    relay = OutboxRelay(registry_engine, Base.metadata, amqp_uri)

    with Connection(amqp_uri, transport_options={"confirm_publish": confirm_each}) as connection:
        assert relay.relay_batch(ConfirmedPublisher(connection)) == 5

    assert unsent_count(registry_engine, Base.metadata) == 0
    delivered = drain(amqp_uri, subscription_queue(SEARCH_INDEXER))
    assert [message.payload["event_id"] for message in delivered] == [str(event.event_id) for event in events]
    assert all(message.delivery_info["routing_key"] == "association_registered.v1" for message in delivered)


def test_events_the_broker_refuses_stay_in_the_outbox_and_those_it_confirms_are_sent(registry_engine, bus, amqp_uri):
    events = [register(registry_engine, f"Association {number}") for number in range(5)]
    relay = OutboxRelay(registry_engine, Base.metadata, amqp_uri)
    # A queue that takes two messages and refuses more: RabbitMQ nacks the publishes routed to it once full.
    full = Queue(
        "test.outbox-full",
        Exchange("registry.events", type="topic", passive=True),
        routing_key="association_registered.v1",
        queue_arguments={"x-max-length": 2, "x-overflow": "reject-publish"},
    )

    with Connection(amqp_uri) as connection:
        full(connection.default_channel).declare()
        with pytest.raises(MessageNacked):
            relay.relay_batch(ConfirmedPublisher(connection))
        assert unsent_count(registry_engine, Base.metadata) == 3
        full(connection.default_channel).delete()
        # The refused ones go again (at least once: the queues that took them get them twice).
        assert relay.relay_batch(ConfirmedPublisher(connection)) == 3

    assert unsent_count(registry_engine, Base.metadata) == 0
    delivered = [message.payload["event_id"] for message in drain(amqp_uri, subscription_queue(SEARCH_INDEXER))]
    assert delivered == [str(event.event_id) for event in events + events[2:]]


def test_events_wait_in_the_outbox_while_the_broker_is_unreachable(registry_engine, bus, amqp_uri):
    register(registry_engine, "Mizo Students Union Delhi")
    unreachable = OutboxRelay(registry_engine, Base.metadata, "amqp://guest:guest@127.0.0.1:1/", poll_seconds=0.1)
    attempt = eventlet.spawn(unreachable.run)
    eventlet.sleep(1.0)
    unreachable.stop()
    attempt.wait()
    assert unsent_count(registry_engine, Base.metadata) == 1

    reachable = OutboxRelay(registry_engine, Base.metadata, amqp_uri, poll_seconds=0.1)
    running = eventlet.spawn(reachable.run)
    try:
        with eventlet.Timeout(10):
            while unsent_count(registry_engine, Base.metadata):
                eventlet.sleep(0.05)
    finally:
        reachable.stop()
        running.wait()
    assert len(drain(amqp_uri, subscription_queue(SEARCH_INDEXER))) == 1


def test_a_relay_outlives_its_database_being_away(bus, amqp_uri):
    """A PostgreSQL restart (or a full disk) makes the relay wait and try again instead of ending its process."""
    away = create_database_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    relay = OutboxRelay(away, Base.metadata, amqp_uri, poll_seconds=0.1)
    running = eventlet.spawn(relay.run)
    eventlet.sleep(1.5)

    assert not running.dead
    relay.stop()
    running.wait()
    away.dispose()
