"""Each service's broker URI, user and permissions, as settings and the topology give them."""

import re
import ssl
from pathlib import Path

import pytest
import yaml

from contracts.events import ASSOCIATION_EVENTS, INDIVIDUAL_EVENTS
from contracts.topology import SUBSCRIPTIONS
from diasporahub.broker import BrokerUsersFailed, service_users
from servicekit.broker_access import owner_of, permissions_for
from servicekit.settings import BusSettings, act_as_service
from services.catalogue import CATALOGUE

COMPOSE_FILE = Path(__file__).parents[2] / "deploy" / "compose.yaml"


def test_a_service_uses_its_own_uri_and_falls_back_to_the_shared_one(monkeypatch):
    monkeypatch.setenv("DIASPORAHUB_AMQP_URI", "amqp://operator:secret@rabbit/")
    monkeypatch.setenv("REGISTRY_AMQP_URI", "amqp://registry:secret@rabbit/")

    assert BusSettings.of_service("registry").amqp_uri == "amqp://registry:secret@rabbit/"
    assert BusSettings.of_service("search").amqp_uri == "amqp://operator:secret@rabbit/"
    act_as_service("registry")
    assert BusSettings().amqp_uri == "amqp://registry:secret@rabbit/"


def test_amqps_checks_the_broker_s_certificate_and_host_name():
    plain = BusSettings(amqp_uri="amqp://registry:secret@rabbit/")
    tls = BusSettings(amqp_uri="amqps://registry:secret@rabbit.example.org/", amqp_ca_certs="/run/secrets/ca.pem")

    assert "AMQP_SSL" not in plain.nameko_config()
    assert tls.nameko_config()["AMQP_SSL"] == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": None,  # kombu fills in the broker's host name, and py-amqp then checks it
        "ca_certs": "/run/secrets/ca.pem",
    }


def test_every_subscription_belongs_to_a_service_of_the_catalogue():
    """Its owner's user alone may consume it: the queue must be named `<service>.<what>`."""
    names = {entry.name for entry in CATALOGUE}
    assert all(owner_of(subscription) in names for subscription in SUBSCRIPTIONS)


def test_the_gateway_may_read_no_subscription_queue_and_bind_only_association_events_to_its_own_queues():
    permissions = permissions_for("gateway")
    read = re.compile(permissions.read)
    [(exchange, keys)] = permissions.event_topics

    for subscription in SUBSCRIPTIONS:
        assert not read.match(subscription.queue)
    assert not read.match("messaging.events") and not read.match("alerts.events")
    assert read.match("rpc.reply-gateway-7a0c8f0e-0b8e-4a55-9d3b-5d1c2f0e1a77")
    assert read.match("gateway.public-reads-7a0c8f0e-0b8e-4a55-9d3b-5d1c2f0e1a77")
    assert not read.match("gateway.public-reads-anything")
    assert exchange == "registry.events"
    assert all(re.match(keys, event.routing_key) for event in ASSOCIATION_EVENTS)
    assert not any(re.match(keys, event.routing_key) for event in INDIVIDUAL_EVENTS)
    assert not re.match(keys, "#")


def test_a_service_s_user_must_be_named_after_it(monkeypatch):
    bus = BusSettings(broker_user_prefix="prod-")

    with pytest.raises(BrokerUsersFailed, match="'prod-registry'"):
        service_users(bus, {"REGISTRY_AMQP_URI": "amqp://registry:secret@rabbit/"})
    [user] = service_users(bus, {"REGISTRY_AMQP_URI": "amqp://prod-registry:secret@rabbit/diasporahub"})
    assert (user.user, user.password, user.vhost) == ("prod-registry", "secret", "diasporahub")


def test_compose_gives_each_service_its_own_broker_uri_and_no_other_s_and_prepare_them_all():
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    variables = {entry.name: f"{entry.name.upper()}_AMQP_URI" for entry in CATALOGUE}

    for entry in CATALOGUE:
        environment = services[entry.name]["environment"]
        assert environment[variables[entry.name]].startswith(f"amqp://{entry.name}:"), entry.name
        assert not {"DIASPORAHUB_AMQP_URI", *variables.values()} - {variables[entry.name]} & set(environment)
    assert set(variables.values()) | {"DIASPORAHUB_AMQP_URI"} <= set(services["prepare"]["environment"])
