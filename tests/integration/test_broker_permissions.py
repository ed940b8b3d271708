"""Each service's own RabbitMQ user, made by `ensure_service_users` in a vhost of its own, on the real broker: what
each may not do is refused by RabbitMQ itself, and who calls an RPC is the user RabbitMQ validated."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import requests
from amqp.exceptions import AccessRefused, PreconditionFailed
from kombu import Connection, Exchange, Queue

from contracts.topology import SEARCH_INDEXER
from diasporahub.broker import Management, ensure_service_users, service_users
from gateway.association_changes import changes_queue
from servicekit.broker_access import permissions_for
from servicekit.bus import declare_topology
from servicekit.settings import BusSettings, amqp_uri_variable
from services.catalogue import CATALOGUE
from tests.conftest import RABBIT_MANAGEMENT


class Broker:
    def __init__(self, operator_uri: str, env: dict[str, str]):
        self.operator_uri = operator_uri
        self.env = env

    def uri_of(self, service: str) -> str:
        return self.env[amqp_uri_variable(service)]

    def connection(self, service: str) -> Connection:
        return Connection(self.uri_of(service), transport_options={"confirm_publish": True})


@pytest.fixture(scope="module")
def broker(rabbit_vhosts):
    """A vhost with the topology declared by the operator (guest) and every service's user made by our code."""
    operator_uri = rabbit_vhosts.create()
    env = rabbit_vhosts.service_users_env(operator_uri)
    bus = BusSettings(
        amqp_uri=operator_uri,
        broker_user_prefix=env["DIASPORAHUB_BROKER_USER_PREFIX"],
        rabbitmq_management_url=RABBIT_MANAGEMENT,
    )
    ensure_service_users(Management.of(bus), service_users(bus, env))
    with Connection(operator_uri) as connection:
        declare_topology(connection)
    return Broker(operator_uri, env)


def test_the_gateway_cannot_consume_an_event_queue(broker):
    with broker.connection("gateway") as connection, pytest.raises(AccessRefused):
        Queue(SEARCH_INDEXER.queue, no_declare=True)(connection.channel()).consume(callback=lambda *_: None)


@pytest.mark.parametrize("routing_key", ["#", "individual_updated.v1"])
def test_the_gateway_cannot_bind_a_queue_of_its_own_to_registry_events_but_association_ones(broker, routing_key):
    with broker.connection("gateway") as connection, pytest.raises(AccessRefused):
        own = Queue(f"rpc.reply-gateway-{uuid.uuid4()}", exclusive=True)(connection.channel())
        own.declare()
        own.bind_to(exchange="registry.events", routing_key=routing_key)


def test_the_gateway_hears_association_events_on_a_queue_of_its_own(broker):
    """How each gateway process learns to forget the public views it keeps (gateway/association_changes.py)."""
    with broker.connection("gateway") as connection:
        queue = changes_queue()(connection.channel())
        queue.declare()
        with broker.connection("registry") as registry:
            producer = registry.Producer(exchange=Exchange("registry.events", type="topic", no_declare=True))
            producer.publish({"aggregate_id": "heard"}, routing_key="association_updated.v1")
            producer.publish({"aggregate_id": "not heard"}, routing_key="individual_updated.v1")
        message = None
        for _ in range(50):
            message = queue.get(no_ack=True)
            if message is not None:
                break
            time.sleep(0.1)
        assert message is not None and message.payload == {"aggregate_id": "heard"}
        assert queue.get(no_ack=True) is None


def test_the_gateway_cannot_listen_to_the_registry_s_rpc_requests(broker):
    """Its own reply queue, bound to nameko-rpc with the registry's key: topic permissions refuse the binding."""
    with broker.connection("gateway") as connection, pytest.raises(AccessRefused):
        own = Queue(f"rpc.reply-gateway-{uuid.uuid4()}", exclusive=True)(connection.channel())
        own.declare()
        own.bind_to(exchange="nameko-rpc", routing_key="registry.*")


@pytest.mark.parametrize("service", ["gateway", "search"])
def test_only_the_registry_publishes_registry_events(broker, service):
    with broker.connection(service) as connection, pytest.raises(AccessRefused):
        producer = connection.Producer(exchange=Exchange("registry.events", type="topic", no_declare=True))
        producer.publish({"forged": True}, routing_key="association_registered.v1")

    with broker.connection("registry") as connection:
        producer = connection.Producer(exchange=Exchange("registry.events", type="topic", no_declare=True))
        producer.publish({"not an event": True}, routing_key="nothing-listens.v1")


def test_a_message_cannot_claim_another_user(broker):
    with broker.connection("gateway") as connection, pytest.raises(PreconditionFailed):
        producer = connection.Producer(exchange=Exchange("nameko-rpc", type="topic", no_declare=True))
        search_user = f"{broker.env['DIASPORAHUB_BROKER_USER_PREFIX']}search"
        producer.publish(
            {"args": [None, 10], "kwargs": {}}, routing_key="registry.individuals_after", user_id=search_user
        )


def test_the_registry_s_relay_declares_only_what_its_user_may(broker):
    """The outbox relay declares the topology on connecting: as the registry, what is not its own is left alone."""
    with broker.connection("registry") as connection:
        declare_topology(connection)
        assert connection.default_channel.is_open


def test_the_broker_users_command_makes_every_service_s_user_with_its_permissions(rabbit_vhosts):
    operator_uri = rabbit_vhosts.create()
    env = rabbit_vhosts.service_users_env(operator_uri)
    vhost = operator_uri.rpartition("/")[2]

    done = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "broker", "users"],
        env=os.environ | {"DIASPORAHUB_AMQP_URI": operator_uri} | env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr
    for entry in CATALOGUE:
        user = f"{env['DIASPORAHUB_BROKER_USER_PREFIX']}{entry.name}"
        granted = requests.get(f"{RABBIT_MANAGEMENT}/api/permissions/{vhost}/{user}", timeout=10).json()
        expected = permissions_for(entry.name, user=user)
        assert (granted["configure"], granted["write"], granted["read"]) == (
            expected.configure,
            expected.write,
            expected.read,
        )
        assert f"{entry.name}: user {user!r}" in done.stdout
