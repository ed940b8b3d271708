"""Fixtures that put the bus topology in the session's vhost and empty its queues after each test."""

import pytest
from kombu import Connection

from contracts.topology import SUBSCRIPTIONS
from servicekit.bus import dead_letter_queue, declare_topology, subscription_queue
from servicekit.settings import BusSettings


@pytest.fixture
def bus(amqp_uri, monkeypatch):
    """The declared topology on the test vhost; services started in the test use it too."""
    monkeypatch.setenv("DIASPORAHUB_AMQP_URI", amqp_uri)
    with Connection(amqp_uri) as connection:
        declare_topology(connection)
        yield connection
        channel = connection.default_channel
        for subscription in SUBSCRIPTIONS:
            subscription_queue(subscription)(channel).purge()
            dead_letter_queue(subscription)(channel).purge()


@pytest.fixture
def nameko_config(bus, amqp_uri):
    return BusSettings(amqp_uri=amqp_uri).nameko_config()
