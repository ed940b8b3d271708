"""A whole system, started as `diasporahub run` starts it, on a vhost of its own: the e2e package's shared system
(conftest.py) and the systems of test modules that need settings of their own (metrics, backups, the production
configuration)."""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from diasporahub.system import System
from tests.messaging_servers import free_port

START_TIMEOUT_SECONDS = 180.0  # a busy machine (other suites running) starts eight processes slowly


@contextmanager
def running_system(rabbit_vhosts, home: Path, settings: dict[str, str]) -> Iterator[System]:
    """Each service as its own broker user (`prepare` makes them as the operator), `settings` on top; stopped after."""
    with started(prepared_system(rabbit_vhosts, home, settings)) as (system,):
        yield system


def prepared_system(rabbit_vhosts, home: Path, settings: dict[str, str]) -> System:
    """A system on a vhost of its own, its topology declared and its databases migrated, not yet started."""
    system = System(
        listen=f"127.0.0.1:{free_port()}", env=system_environment(rabbit_vhosts, home, settings), log_dir=home / "log"
    )
    system.prepare()
    return system


def replica_of(system: System, log_dir: Path) -> System:
    """A second copy of every process of `system` (services, relays, a gateway on a port of its own), sharing its
    broker, vhost and databases, as replicas do in production."""
    return System(listen=f"127.0.0.1:{free_port()}", env=system.env, log_dir=log_dir)


@contextmanager
def started(*systems: System) -> Iterator[tuple[System, ...]]:
    """Every process of `systems` started at once, waited for until each gateway is ready; all stopped after."""
    with ThreadPoolExecutor(max_workers=len(systems)) as pool:
        try:
            list(pool.map(lambda system: system.start_all(ready_timeout_seconds=START_TIMEOUT_SECONDS), systems))
            yield systems
        finally:
            stopped(*systems)


def stopped(*systems: System) -> None:
    """Every process of `systems` stopped at once, each given its grace to finish what it does."""
    stops = [(system, name) for system in systems for name in list(system.processes)]
    with ThreadPoolExecutor(max_workers=max(len(stops), 1)) as pool:
        list(pool.map(lambda stop: stop[0].stop(stop[1]), stops))


def system_environment(rabbit_vhosts, home: Path, settings: dict[str, str]) -> dict[str, str]:
    """A vhost of its own with each service as its own broker user, the embedded databases in `home` (never the
    checkout's own `var/`, where `make run` keeps its data), `settings` on top."""
    operator_amqp_uri = rabbit_vhosts.create()
    return os.environ | {
        "DIASPORAHUB_AMQP_URI": operator_amqp_uri,
        **rabbit_vhosts.service_users_env(operator_amqp_uri),
        "ALERTS_DATA_KEY_FILE": str(home / "alerts-data.key"),
        "MESSAGING_MAIL_FOLDER": str(home / "mail"),
        **{
            f"{service.upper()}_DATABASE_URL": f"sqlite:///{home / f'{service}.sqlite3'}"
            for service in ("registry", "search", "messaging", "alerts")
        },
        # The suite signs up and logs in hundreds of people; at about 0.2 s of CPU a hash, the default profile
        # would cost minutes. test_production_configuration runs the default.
        "REGISTRY_PASSWORD_HASHING": "fast-for-tests-only",
        **settings,
    }
