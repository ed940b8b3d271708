"""The whole system for a benchmark, as `diasporahub run` starts it, in a RabbitMQ vhost and a directory of its own:
the environment that points every process there, and the command-line options and scratch directory around a run."""

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def scratch_environment(amqp_uri: str, workdir: Path, **databases: str) -> dict[str, str]:
    """This process's environment with every service's database in `workdir` (SQLite files, unless a database URL
    is given by name: `registry="postgresql+psycopg2://…"`) and every process on the scratch vhost as its user."""
    env = os.environ | {
        "DIASPORAHUB_AMQP_URI": amqp_uri,
        "ALERTS_DATA_KEY_FILE": str(workdir / "alerts-data.key"),
    }
    for service in ("registry", "search", "messaging", "alerts"):
        env[f"{service.upper()}_DATABASE_URL"] = databases.get(service, f"sqlite:///{workdir / f'{service}.sqlite3'}")
    for variable in [name for name in env if name.endswith("_AMQP_URI") and name != "DIASPORAHUB_AMQP_URI"]:
        env.pop(variable)
    return env


def add_broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--amqp-uri", default=os.environ.get("DIASPORAHUB_AMQP_URI", "amqp://guest:guest@localhost:5672/")
    )
    parser.add_argument("--management-url", default="http://localhost:15672")


def in_scratch_directory(prefix: str, run: Callable[[Path], None]) -> None:
    """`run(workdir)` in a new directory, removed afterwards whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        run(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
