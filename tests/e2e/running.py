"""A whole system of a test module's own, started as `diasporahub run` starts it, on a vhost of its own."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from diasporahub.system import System
from tests.e2e.conftest import free_port

START_TIMEOUT_SECONDS = 180.0  # a busy machine (other suites running) starts eight processes slowly


@contextmanager
def running_system(rabbit_vhosts, home: Path, settings: dict[str, str]) -> Iterator[System]:
    """Each service as its own broker user (`prepare` makes them as the operator), `settings` on top; stopped after."""
    system = System(
        listen=f"127.0.0.1:{free_port()}", env=system_environment(rabbit_vhosts, home, settings), log_dir=home / "log"
    )
    system.prepare()
    try:
        system.start_all(ready_timeout_seconds=START_TIMEOUT_SECONDS)
        yield system
    finally:
        system.stop_all()


def system_environment(rabbit_vhosts, home: Path, settings: dict[str, str]) -> dict[str, str]:
    """A vhost of its own with each service as its own broker user, the embedded databases in `home`, `settings`
    on top."""
    operator_amqp_uri = rabbit_vhosts.create()
    return os.environ | {
        "DIASPORAHUB_AMQP_URI": operator_amqp_uri,
        **rabbit_vhosts.service_users_env(operator_amqp_uri),
        "ALERTS_DATA_KEY_FILE": str(home / "alerts-data.key"),
        "MESSAGING_MAIL_FOLDER": str(home / "mail"),
        "SEARCH_DATABASE_URL": f"sqlite:///{home / 'search.sqlite3'}",
        **settings,
    }
