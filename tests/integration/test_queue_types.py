"""The topology on the real RabbitMQ, each queue type in a vhost of its own: classic (the embedded default) and
quorum (production, with a delivery limit); RPC queues bounded in length and age."""

import eventlet
import pytest
import requests
from kombu import Connection
from nameko.testing.services import entrypoint_waiter

from contracts.topology import SEARCH_INDEXER, SUBSCRIPTIONS
from servicekit.bus import (
    dead_letter_queue,
    declare_rpc_queues,
    declare_topology,
    rpc_exchange,
    rpc_queue,
    subscription_queue,
)
from servicekit.rpc import call_service, rpc
from servicekit.settings import BusSettings
from tests.conftest import RABBIT_MANAGEMENT
from tests.integration.factories import association_event


def queue_info(amqp_uri: str, name: str) -> dict:
    vhost = amqp_uri.rpartition("/")[2]
    answer = requests.get(f"{RABBIT_MANAGEMENT}/api/queues/{vhost}/{name}", timeout=10)
    answer.raise_for_status()
    return answer.json()


def wait_for_depth(connection: Connection, queue, depth: int) -> None:
    with eventlet.Timeout(10):
        while queue(connection.default_channel).queue_declare(passive=True).message_count != depth:
            eventlet.sleep(0.02)


@pytest.fixture(params=["classic", "quorum"])
def queue_type(request, monkeypatch, rabbit_vhosts):
    """A fresh vhost with the topology declared as `DIASPORAHUB_QUEUE_TYPE` says."""
    monkeypatch.setenv("DIASPORAHUB_QUEUE_TYPE", request.param)
    amqp_uri = rabbit_vhosts.create()
    monkeypatch.setenv("DIASPORAHUB_AMQP_URI", amqp_uri)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        declare_topology(connection)
        declare_topology(connection)  # safe to repeat
    return request.param, amqp_uri


def test_every_subscription_and_dead_letter_queue_has_the_chosen_type(queue_type):
    chosen, amqp_uri = queue_type
    for subscription in SUBSCRIPTIONS:
        declared = queue_info(amqp_uri, subscription.queue)
        assert declared["type"] == chosen
        assert declared["arguments"]["x-dead-letter-routing-key"] == subscription.dead_letter_queue
        assert queue_info(amqp_uri, subscription.dead_letter_queue)["type"] == chosen
    limit = queue_info(amqp_uri, SEARCH_INDEXER.queue)["arguments"].get("x-delivery-limit")
    assert limit == (10 if chosen == "quorum" else None)


def test_a_rejected_event_is_dead_lettered_on_either_type(queue_type):
    _, amqp_uri = queue_type
    event = association_event(name="Mizo Fellowship Auckland")
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            event.model_dump(mode="json"), exchange="", routing_key=SEARCH_INDEXER.queue, serializer="json"
        )
        subscription_queue(SEARCH_INDEXER)(connection.default_channel).get(no_ack=False).reject(requeue=False)
        wait_for_depth(connection, dead_letter_queue(SEARCH_INDEXER), 1)
        dead = dead_letter_queue(SEARCH_INDEXER)(connection.default_channel).get(no_ack=True)
    assert dead.payload["event_id"] == str(event.event_id)
    assert dead.headers["x-death"][0]["queue"] == SEARCH_INDEXER.queue


def test_on_a_quorum_queue_a_message_redelivered_past_the_limit_is_dead_lettered(monkeypatch, rabbit_vhosts):
    monkeypatch.setenv("DIASPORAHUB_QUEUE_TYPE", "quorum")
    monkeypatch.setenv("DIASPORAHUB_DELIVERY_LIMIT", "2")
    amqp_uri = rabbit_vhosts.create()
    event = association_event(name="Mizo Fellowship Wellington")
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        declare_topology(connection)
        connection.Producer().publish(
            event.model_dump(mode="json"), exchange="", routing_key=SEARCH_INDEXER.queue, serializer="json"
        )
        queue = subscription_queue(SEARCH_INDEXER)(connection.default_channel)
        deliveries = 0
        with eventlet.Timeout(10):
            while (message := queue.get(no_ack=False)) is not None or deliveries == 0:
                if message is not None:
                    deliveries += 1
                    message.requeue()  # as a consumer that crashes before acknowledging
                eventlet.sleep(0.02)
        wait_for_depth(connection, dead_letter_queue(SEARCH_INDEXER), 1)
    assert deliveries == 3  # the first delivery and two redeliveries, then the limit


class Echo:
    name = "echo"

    @rpc
    def ping(self) -> str:
        return "pong"


def test_a_services_rpc_queue_is_bounded_in_length_and_age(monkeypatch, rabbit_vhosts, container_factory):
    monkeypatch.setenv("DIASPORAHUB_RPC_QUEUE_MAX_LENGTH", "3")
    monkeypatch.setenv("DIASPORAHUB_RPC_QUEUE_MESSAGE_TTL_SECONDS", "30")
    amqp_uri = rabbit_vhosts.create()
    container = container_factory(Echo, BusSettings(amqp_uri=amqp_uri).nameko_config())
    container.start()
    declared = queue_info(amqp_uri, "rpc-echo")
    assert declared["arguments"] == {"x-max-length": 3, "x-message-ttl": 30000}
    container.stop()
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        for number in range(10):
            connection.Producer().publish(
                {"args": [], "kwargs": {}, "number": number}, exchange=rpc_exchange(), routing_key="echo.ping"
            )
        waiting = rpc_queue("echo")(connection.default_channel).queue_declare(passive=True).message_count
    assert waiting == 3  # the backlog is bounded: the oldest requests were dropped


def test_a_service_answers_calls_on_its_bounded_rpc_queue(rabbit_vhosts, container_factory):
    amqp_uri = rabbit_vhosts.create()
    container = container_factory(Echo, BusSettings(amqp_uri=amqp_uri).nameko_config())
    container.start()
    with entrypoint_waiter(container, "ping"):
        assert call_service(BusSettings(amqp_uri=amqp_uri), "echo", "ping") == "pong"


def test_prepare_replaces_an_rpc_queue_declared_by_an_older_version(rabbit_vhosts):
    amqp_uri = rabbit_vhosts.create()
    with Connection(amqp_uri) as connection:
        older = rpc_queue("echo")
        older.queue_arguments = None  # as nameko declares it
        older(connection.default_channel).declare()
        declare_rpc_queues(connection, ("echo",))
        declare_rpc_queues(connection, ("echo",))
    assert queue_info(amqp_uri, "rpc-echo")["arguments"] == {"x-max-length": 1000, "x-message-ttl": 30000}
