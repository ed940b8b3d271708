"""Every service of DiasporaHub, in one place: `diasporahub run` and `prepare`, `/readyz` and the compose file
(checked by tests/unit/test_deploy.py) all read this list. Adding a service is one entry here plus its package.

Only names, as strings: the `diasporahub run` supervisor reads this without importing any service.
"""

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    """The nameko service name (`RegistryService.name`), the process's name and the compose service's."""
    entry: str
    """`module:Class` of the nameko service, as `python -m servicekit.runner` takes it."""
    settings: str | None = None
    """`module:Class` of its pydantic-settings class; with `migrations`, it has a `database_url`."""
    migrations: str | None = None
    """The package whose `migrations/` Alembic runs against the settings' `database_url` (`diasporahub prepare`)."""
    http: bool = False
    """It serves HTTP, at the address given with `--listen`."""
    pinged: bool = False
    """`/readyz` calls its `ping` RPC (the gateway then has a `TimedRpcProxy` attribute of this name)."""

    def runner_arguments(self, listen: str) -> list[str]:
        """What follows `python -m` to run it in a process of its own."""
        return ["servicekit.runner", self.entry, *(["--listen", listen] if self.http else [])]

    def load(self) -> type:
        return _load(self.entry)

    def load_settings(self) -> Any:
        """A settings object read from the environment now; None if the service has no settings class."""
        return None if self.settings is None else _load(self.settings)()

    def database_url(self) -> str:
        if self.settings is None or self.migrations is None:
            raise ValueError(f"the {self.name} service has no database")
        return self.load_settings().database_url


CATALOGUE: tuple[ServiceEntry, ...] = (
    ServiceEntry(
        "registry",
        "services.registry.service:RegistryService",
        settings="services.registry.settings:RegistrySettings",
        migrations="services.registry",
        pinged=True,
    ),
    ServiceEntry(
        "search",
        "services.search.service:SearchService",
        settings="services.search.settings:SearchSettings",
        migrations="services.search",
        pinged=True,
    ),
    ServiceEntry(
        "messaging",
        "services.messaging.service:MessagingService",
        settings="services.messaging.settings:MessagingSettings",
        migrations="services.messaging",
        pinged=True,
    ),
    ServiceEntry(
        "alerts",
        "services.alerts.service:AlertsService",
        settings="services.alerts.settings:AlertsSettings",
        migrations="services.alerts",
        pinged=True,
    ),
    ServiceEntry(
        "gateway",
        "gateway.service:GatewayService",
        settings="gateway.settings:GatewaySettings",
        http=True,
    ),
)


def service(name: str) -> ServiceEntry:
    for entry in CATALOGUE:
        if entry.name == name:
            return entry
    raise KeyError(f"no service named {name!r} in services/catalogue.py")


def with_databases() -> tuple[ServiceEntry, ...]:
    return tuple(entry for entry in CATALOGUE if entry.migrations is not None)


def pinged_names() -> tuple[str, ...]:
    return tuple(entry.name for entry in CATALOGUE if entry.pinged)


def _load(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
