"""Configuration from the environment, one pydantic-settings class per concern."""

import os
import ssl

from kombu.utils.url import parse_url
from pydantic_settings import BaseSettings, SettingsConfigDict

SHARED_AMQP_URI_VARIABLE = "DIASPORAHUB_AMQP_URI"


def amqp_uri_variable(service: str) -> str:
    """The variable holding a service's own broker URI: `REGISTRY_AMQP_URI` for the registry."""
    return f"{service.upper()}_AMQP_URI"


def broker_user_of(amqp_uri: str) -> str:
    """The RabbitMQ user an AMQP URI signs in as (kombu's default, guest, if it names none)."""
    return parse_url(amqp_uri).get("userid") or "guest"


class BusSettings(BaseSettings):
    """How every process reaches RabbitMQ (`DIASPORAHUB_AMQP_URI`, ...).

    A service reaches it as its own broker user, `<SERVICE>_AMQP_URI`, falling back to `DIASPORAHUB_AMQP_URI`
    (the embedded default: guest for everything). `broker_user_prefix` is put before a service's name to make its
    broker user's name (`""`: the registry's user is `registry`). `rabbitmq_management_url` is where
    `diasporahub broker users` makes those users (unset: port 15672 of the broker's host). With an `amqps://` URI
    the broker's certificate and host name are checked, against `amqp_ca_certs` (a CA file) or the system's CAs.
    """

    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    amqp_uri: str = "amqp://guest:guest@localhost:5672/"
    rpc_timeout_seconds: float = 5.0
    max_workers: int = 10
    broker_user_prefix: str = ""
    rabbitmq_management_url: str = ""
    amqp_ca_certs: str = ""

    @classmethod
    def of_service(cls, service: str) -> "BusSettings":
        """The bus as `service` reaches it: `<SERVICE>_AMQP_URI` if set, otherwise `DIASPORAHUB_AMQP_URI`."""
        own_uri = os.environ.get(amqp_uri_variable(service))
        return cls(amqp_uri=own_uri) if own_uri else cls()

    def broker_user(self, service: str) -> str:
        """The name of `service`'s own broker user."""
        return f"{self.broker_user_prefix}{service}"

    def ssl_options(self) -> dict[str, object] | None:
        """TLS options for kombu and nameko (`AMQP_SSL`): None for `amqp://`; for `amqps://`, the certificate checked
        (against `amqp_ca_certs` if set) and the host name too (kombu puts the broker's in `server_hostname`)."""
        if parse_url(self.amqp_uri)["transport"] != "amqps":
            return None
        options: dict[str, object] = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}
        if self.amqp_ca_certs:
            options["ca_certs"] = self.amqp_ca_certs
        return options

    def nameko_config(self, **extra: object) -> dict[str, object]:
        tls = self.ssl_options()
        return {
            "AMQP_URI": self.amqp_uri,
            "max_workers": self.max_workers,
            **({"AMQP_SSL": tls} if tls else {}),
            **extra,
        }


def act_as_service(service: str) -> BusSettings:
    """This process is `service` on the bus (its runner, or a command doing its work, such as `search reindex`):
    every BusSettings() made in it from now on reaches RabbitMQ with `service`'s own URI."""
    bus = BusSettings.of_service(service)
    os.environ[SHARED_AMQP_URI_VARIABLE] = bus.amqp_uri
    return bus


class DatabaseSettings(BaseSettings):
    """A service's own database; subclasses set the prefix, e.g. `REGISTRY_DATABASE_URL`."""

    database_url: str
