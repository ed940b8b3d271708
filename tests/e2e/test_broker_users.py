"""The running system reaches RabbitMQ as production does: each service as its own broker user, none as the
operator's account."""

import time
from urllib.parse import quote, urlsplit

import requests

from services.catalogue import CATALOGUE
from tests.conftest import RABBIT_MANAGEMENT


def connection_users(vhost: str) -> set[str]:
    answer = requests.get(f"{RABBIT_MANAGEMENT}/api/vhosts/{quote(vhost, safe='')}/connections", timeout=10)
    answer.raise_for_status()
    return {connection["user"] for connection in answer.json()}


def test_every_service_is_connected_as_its_own_broker_user_and_none_as_the_operator(system):
    prefix = system.env["DIASPORAHUB_BROKER_USER_PREFIX"]
    vhost = urlsplit(system.env["DIASPORAHUB_AMQP_URI"]).path.removeprefix("/")
    vhost = requests.utils.unquote(vhost)
    expected = {f"{prefix}{entry.name}" for entry in CATALOGUE}

    deadline = time.monotonic() + 30  # the management API lists connections a few seconds late
    users = connection_users(vhost)
    while not expected <= users and time.monotonic() < deadline:
        time.sleep(1)
        users = connection_users(vhost)

    assert expected <= users
    assert all(user.startswith(prefix) for user in users), users
