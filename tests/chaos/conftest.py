"""The chaos suite's own RabbitMQ node and PostgreSQL cluster (tests/private_servers.py), one of each per module:
its faults stop and restart them, which the machine's shared servers, in use by other tests, must never be."""

import pytest

from tests.private_servers import PrivatePostgres, PrivateRabbitNode


@pytest.fixture(scope="module")
def broker():
    node = PrivateRabbitNode()
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def database_server():
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()
