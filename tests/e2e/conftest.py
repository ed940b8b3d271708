"""The whole system, started the way `diasporahub run` starts it, on the session's vhost and databases."""

import os
import socket

import pytest
from sqlalchemy import create_engine, func, select

from diasporahub.system import System
from services.registry.db import AssociationRecord


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="package")
def registry_database_url(postgres_databases):
    return postgres_databases.create()


@pytest.fixture(scope="package")
def system(rabbit_vhosts, registry_database_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("system")
    env = os.environ | {
        "DIASPORAHUB_AMQP_URI": rabbit_vhosts.create(),
        "REGISTRY_DATABASE_URL": registry_database_url,
        "SEARCH_DATABASE_URL": f"sqlite:///{home / 'search.sqlite3'}",
    }
    running = System(listen=f"127.0.0.1:{free_port()}", env=env, log_dir=home / "log")
    running.prepare()
    try:
        running.start_all()
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def api(system):
    return system.url


@pytest.fixture
def stored_association_count(registry_database_url):
    engine = create_engine(registry_database_url)

    def count() -> int:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(AssociationRecord)).scalar_one()

    yield count
    engine.dispose()
