"""Connecting to a secured Elasticsearch 8 cluster: the settings, and what the client sends and trusts."""

from functools import partial

import pytest
from elasticsearch import Elasticsearch
from pydantic import ValidationError

from services.search.elastic import engine as engine_module
from services.search.elastic.engine import ElasticsearchEngine
from services.search.settings import SearchSettings
from tests.unit.test_search_elasticsearch import Cluster

FINGERPRINT = "E8:3B:2F:0A:" + ":".join(["1C"] * 28)


@pytest.fixture
def cluster(monkeypatch) -> Cluster:
    """Every client that ElasticsearchEngine.connect makes talks to the recording node."""
    cluster = Cluster()
    monkeypatch.setattr(engine_module, "Elasticsearch", partial(Elasticsearch, node_class=cluster.node_class()))
    return cluster


def connect(monkeypatch, **environment) -> ElasticsearchEngine:
    for name, value in environment.items():
        monkeypatch.setenv(f"SEARCH_ELASTICSEARCH_{name.upper()}", value)
    return ElasticsearchEngine.connect(SearchSettings())


def test_an_api_key_is_sent_with_every_request(monkeypatch, cluster):
    engine = connect(
        monkeypatch,
        url="https://search.example.org:9200",
        api_key="VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
    )

    engine.client.info()

    assert cluster.headers[0]["authorization"] == "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def test_a_user_and_password_are_sent_as_basic_authentication(monkeypatch, cluster):
    engine = connect(monkeypatch, url="https://search.example.org:9200", username="diasporahub", password="s3cret")

    engine.client.info()

    assert cluster.headers[0]["authorization"] == "Basic ZGlhc3BvcmFodWI6czNjcmV0"


def test_the_clusters_own_ca_certificate_is_trusted_from_a_file(monkeypatch, cluster):
    engine = connect(monkeypatch, url="https://search.example.org:9200", ca_certs="/etc/diasporahub/http_ca.crt")

    config = engine.client.transport.node_pool.get().config
    assert (config.scheme, config.ca_certs) == ("https", "/etc/diasporahub/http_ca.crt")


def test_or_by_its_fingerprint(monkeypatch, cluster):
    engine = connect(monkeypatch, url="https://search.example.org:9200", ca_fingerprint=FINGERPRINT)

    assert engine.client.transport.node_pool.get().config.ssl_assert_fingerprint == FINGERPRINT


def test_without_credentials_nothing_is_sent_and_empty_settings_are_unset(monkeypatch, cluster):
    engine = connect(monkeypatch, url="http://localhost:9200", api_key="", username="", password="", ca_certs="")

    engine.client.info()

    assert "authorization" not in cluster.headers[0]
    assert engine.client.transport.node_pool.get().config.ca_certs is None


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"elasticsearch_username": "elastic"}, "set both SEARCH_ELASTICSEARCH_USERNAME and"),
        ({"elasticsearch_password": "x"}, "set both SEARCH_ELASTICSEARCH_USERNAME and"),
        (
            {"elasticsearch_api_key": "k", "elasticsearch_username": "u", "elasticsearch_password": "p"},
            "not both",
        ),
        ({"elasticsearch_ca_certs": "/ca.crt", "elasticsearch_ca_fingerprint": FINGERPRINT}, "not both"),
    ],
)
def test_contradictory_settings_are_refused_at_start(settings, problem):
    with pytest.raises(ValidationError, match=problem):
        SearchSettings(elasticsearch_url="https://search.example.org:9200", **settings)


def test_secrets_do_not_show_in_the_settings(monkeypatch):
    monkeypatch.setenv("SEARCH_ELASTICSEARCH_PASSWORD", "s3cret")
    monkeypatch.setenv("SEARCH_ELASTICSEARCH_USERNAME", "elastic")

    assert "s3cret" not in repr(SearchSettings())
