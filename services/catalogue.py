"""Every service of DiasporaHub, in one place: `diasporahub run` and `prepare`, `/readyz` and the compose file
(checked by tests/unit/test_deploy.py) all read this list. Adding a service is one entry here plus its package.

Only names, as strings: the `diasporahub run` supervisor reads this without importing any service.
"""

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GATEWAY_PROCESSES = "GATEWAY_PROCESSES"
# Unset, `diasporahub run` starts a gateway process per core up to this: each is one eventlet thread on one core.
DEFAULT_GATEWAY_PROCESSES_AT_MOST = 4
GATEWAY_PROCESSES_AT_MOST = 64


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
    """It serves HTTP, at the address given with `--listen`; `diasporahub run` may start several processes of it
    there (`GATEWAY_PROCESSES`), each binding the address with SO_REUSEPORT."""
    pinged: bool = False
    """`/readyz` calls its `ping` RPC (the gateway then has a `TimedRpcProxy` attribute of this name)."""
    relay: bool = False
    """Its outbox is published by a process of its own, `<name>-relay` (servicekit/relay.py), which keeps up while
    the service is busy; the service is told (`<NAME>_OUTBOX_RELAY=process`) not to relay as well."""
    sender: str | None = None
    """The module (run with `python -m`) of a process of its own, `<name>-sender`, that sends what the service queued
    to go out (messaging's e-mails and webhooks), so that its sends never hold up requests; the service is told
    (`<NAME>_DELIVERY_SENDER=process`) not to send as well."""

    def runner_arguments(self, listen: str) -> list[str]:
        """What follows `python -m` to run it in a process of its own."""
        return ["servicekit.runner", self.entry, *(["--listen", listen] if self.http else [])]

    def process_names(self, count: int = 1) -> list[str]:
        """Names of `count` processes of it: the first is named as the service, the others `<name>-2`, `<name>-3`…"""
        return [self.name, *(f"{self.name}-{number}" for number in range(2, count + 1))]

    @property
    def relay_name(self) -> str:
        return f"{self.name}-relay"

    def relay_arguments(self) -> list[str]:
        """What follows `python -m` to run its outbox relay in a process of its own."""
        if not self.relay or self.settings is None:
            raise ValueError(f"the {self.name} service has no relay process")
        return ["servicekit.relay", self.name, self.settings]

    @property
    def sender_name(self) -> str:
        return f"{self.name}-sender"

    def sender_arguments(self) -> list[str]:
        """What follows `python -m` to run its sender in a process of its own."""
        if self.sender is None:
            raise ValueError(f"the {self.name} service has no sender process")
        return [self.sender]

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
        relay=True,
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
        relay=True,
        sender="services.messaging.delivery.process",
    ),
    ServiceEntry(
        "alerts",
        "services.alerts.service:AlertsService",
        settings="services.alerts.settings:AlertsSettings",
        migrations="services.alerts",
        pinged=True,
        relay=True,
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


def processes(listen: str, gateway_processes: int = 1) -> dict[str, list[str]]:
    """Every process of the system by name, in the order they start (each service, its relay, its sender), with what
    follows `python -m` to run it. The HTTP service runs in `gateway_processes` processes on the one address:
    `gateway`, `gateway-2`…"""
    started: dict[str, list[str]] = {}
    for entry in CATALOGUE:
        for name in entry.process_names(gateway_processes if entry.http else 1):
            started[name] = entry.runner_arguments(listen)
        if entry.relay:
            started[entry.relay_name] = entry.relay_arguments()
        if entry.sender:
            started[entry.sender_name] = entry.sender_arguments()
    return started


def gateway_processes(env: Mapping[str, str]) -> int:
    """How many gateway processes `diasporahub run` starts (`GATEWAY_PROCESSES`); unset, one per core this process
    may use, at most DEFAULT_GATEWAY_PROCESSES_AT_MOST. ValueError, with a sentence, for anything but 1 to 64."""
    value = env.get(GATEWAY_PROCESSES, "").strip()
    if not value:
        return min(usable_cores(), DEFAULT_GATEWAY_PROCESSES_AT_MOST)
    if not value.isdigit() or not 1 <= int(value) <= GATEWAY_PROCESSES_AT_MOST:
        raise ValueError(
            f"{GATEWAY_PROCESSES} must be a whole number of gateway processes from 1 to {GATEWAY_PROCESSES_AT_MOST}, "
            f"not {value!r}"
        )
    return int(value)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as a container's cpuset limits it), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def process_environment(name: str, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the process `name` of processes(): `env`, except that a second or later copy of a service
    (`gateway-2`) serves its metrics on `<NAME>_<N>_METRICS_LISTEN` (`GATEWAY_2_METRICS_LISTEN`), or not at all,
    rather than on the first copy's port."""
    service_name, _, number = name.rpartition("-")
    if not number.isdigit():
        return dict(env)
    prefix = service_name.upper().replace("-", "_")
    return dict(env) | {f"{prefix}_METRICS_LISTEN": env.get(f"{prefix}_{number}_METRICS_LISTEN", "")}


def relay_environment() -> dict[str, str]:
    """What tells each service with a relay process not to relay in its own process as well."""
    return {f"{entry.name.upper()}_OUTBOX_RELAY": "process" for entry in CATALOGUE if entry.relay}


def sender_environment() -> dict[str, str]:
    """What tells each service with a sender process not to send in its own process as well."""
    return {f"{entry.name.upper()}_DELIVERY_SENDER": "process" for entry in CATALOGUE if entry.sender}


def with_databases() -> tuple[ServiceEntry, ...]:
    return tuple(entry for entry in CATALOGUE if entry.migrations is not None)


def pinged_names() -> tuple[str, ...]:
    return tuple(entry.name for entry in CATALOGUE if entry.pinged)


def _load(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
