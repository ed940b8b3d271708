"""`diasporahub broker users`: give every service of the catalogue its own RabbitMQ user.

Each service's user and password are those of its `<SERVICE>_AMQP_URI` (the user must be named after the service,
with `DIASPORAHUB_BROKER_USER_PREFIX` before it); its permissions in that URI's vhost are derived from the
catalogue and contracts/topology.py (servicekit.broker_access). The users are made through RabbitMQ's management API
(`DIASPORAHUB_RABBITMQ_MANAGEMENT_URL`, by default port 15672 of the broker's host) as the operator's user of
`DIASPORAHUB_AMQP_URI`, which must have the `administrator` tag. Safe to repeat: it updates passwords and
permissions. `diasporahub prepare` runs it when any `<SERVICE>_AMQP_URI` is set.
"""

import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from kombu.utils.url import parse_url

from servicekit.broker_access import permissions_for
from servicekit.settings import BusSettings, amqp_uri_variable
from services.catalogue import CATALOGUE


class BrokerUsersFailed(Exception):
    """A sentence an operator can act on."""


@dataclass(frozen=True)
class ServiceUser:
    service: str
    user: str
    password: str
    vhost: str


class Management:
    """RabbitMQ's management HTTP API, signed in as an administrator."""

    def __init__(
        self, url: str, username: str, password: str, *, ca_certs: str = "", timeout_seconds: float = 10.0
    ) -> None:
        self.url = url.rstrip("/")
        # Over https, the management API's certificate is checked against the broker's CA when one is configured.
        self._tls = ssl.create_default_context(cafile=ca_certs) if ca_certs else None
        self._authorization = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.timeout_seconds = timeout_seconds

    @classmethod
    def of(cls, bus: BusSettings) -> "Management":
        """At `bus.rabbitmq_management_url` (its own user and password, if it has any), else as the AMQP URI's user
        on port 15672 of the broker's host."""
        amqp = parse_url(bus.amqp_uri)
        url = bus.rabbitmq_management_url or f"http://{amqp['hostname'] or 'localhost'}:15672"
        parts = urlsplit(url)
        if parts.username:
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            return cls(
                parts._replace(netloc=netloc).geturl(),
                parts.username,
                parts.password or "",
                ca_certs=bus.amqp_ca_certs,
            )
        return cls(url, amqp["userid"] or "guest", amqp["password"] or "guest", ca_certs=bus.amqp_ca_certs)

    def put(self, path: str, body: Mapping[str, object]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"Authorization": self._authorization, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds, context=self._tls):
                pass
        except urllib.error.HTTPError as exc:
            raise BrokerUsersFailed(f"RabbitMQ's management API refused PUT {path}: {exc.code} {exc.reason}") from exc
        except OSError as exc:
            raise BrokerUsersFailed(
                f"RabbitMQ's management API does not answer at {self.url} ({exc}); enable it with "
                "`rabbitmq-plugins enable rabbitmq_management`, or set DIASPORAHUB_RABBITMQ_MANAGEMENT_URL"
            ) from exc


def service_users(bus: BusSettings, environ: Mapping[str, str] = os.environ) -> list[ServiceUser]:
    """The services that have a URI of their own, each with its user; refuses a user not named after its service."""
    users = []
    for entry in CATALOGUE:
        uri = environ.get(amqp_uri_variable(entry.name))
        if not uri:
            continue
        parts = parse_url(uri)
        expected = bus.broker_user(entry.name)
        if parts["userid"] != expected or not parts["password"]:
            raise BrokerUsersFailed(
                f"{amqp_uri_variable(entry.name)} must sign in as the user {expected!r}, with a password "
                f"(the services recognise each other's calls by these names)"
            )
        users.append(ServiceUser(entry.name, expected, parts["password"], parts["virtual_host"] or "/"))
    return users


def ensure_service_users(management: Management, users: list[ServiceUser]) -> None:
    """Create or update each user, its permissions in its vhost and its topic permissions on the RPC exchange (and
    on the event exchanges of its broadcasts)."""
    for user in users:
        permissions = permissions_for(user.service, user=user.user)
        name, vhost = quote(user.user, safe=""), quote(user.vhost, safe="")
        management.put(f"users/{name}", {"password": user.password, "tags": ""})
        management.put(
            f"permissions/{vhost}/{name}",
            {"configure": permissions.configure, "write": permissions.write, "read": permissions.read},
        )
        management.put(
            f"topic-permissions/{vhost}/{name}",
            {"exchange": permissions.topic_exchange, "write": permissions.topic_write, "read": permissions.topic_read},
        )
        for exchange, read in permissions.event_topics:
            management.put(f"topic-permissions/{vhost}/{name}", {"exchange": exchange, "write": "^$", "read": read})


def main(arguments: list[str]) -> int:
    if arguments != ["users"]:
        print("usage: diasporahub broker users", file=sys.stderr)
        return 2
    bus = BusSettings()
    try:
        users = service_users(bus)
        if not users:
            print(
                "diasporahub: no <SERVICE>_AMQP_URI is set: every service uses DIASPORAHUB_AMQP_URI's user",
                file=sys.stderr,
            )
            return 1
        ensure_service_users(Management.of(bus), users)
    except BrokerUsersFailed as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        return 2
    for user in users:
        print(f"{user.service}: user {user.user!r} in vhost {user.vhost!r}")
    return 0
