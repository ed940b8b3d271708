"""The search service's /readyz asks its engine too, not only the broker: a replica whose embedded index cannot be
read is taken out of traffic (Elasticsearch's side: tests/unit/test_search_elasticsearch_health.py)."""

import socket

import pytest
import requests
from sqlalchemy import create_engine, text

from services.search.service import SearchService
from tests.integration.test_search_service import search_database  # noqa: F401 (the fixture)


@pytest.fixture
def readiness_url(monkeypatch, search_database, nameko_config, container_factory):  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SEARCH_METRICS_LISTEN", f"127.0.0.1:{port}")
    container_factory(SearchService, nameko_config).start()
    return f"http://127.0.0.1:{port}/readyz"


def test_search_is_ready_when_the_broker_and_its_index_answer(readiness_url):
    ready = requests.get(readiness_url, timeout=10)

    assert (ready.status_code, ready.json()) == (
        200, {"status": "ready", "checks": {"broker": True, "search_engine": True}}
    )  # fmt: skip


def test_search_is_not_ready_when_its_index_cannot_be_read(readiness_url, search_database):  # noqa: F811
    broken = create_engine(search_database)
    with broken.begin() as connection:
        connection.execute(text("ALTER TABLE associations RENAME TO associations_gone"))
    broken.dispose()

    ready = requests.get(readiness_url, timeout=10)

    assert (ready.status_code, ready.json()) == (
        503, {"status": "not_ready", "checks": {"broker": True, "search_engine": False}}
    )  # fmt: skip
