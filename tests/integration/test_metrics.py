"""What servicekit counts for Prometheus, on the real broker: events published by the relay, retried and
dead-lettered by a consumer, the outbox backlog and its oldest row, and a service's /metrics and /readyz."""

import socket
from datetime import timedelta

import requests
from kombu import Connection
from prometheus_client import REGISTRY
from pydantic_settings import SettingsConfigDict
from sqlalchemy import MetaData, create_engine

from contracts.topology import SEARCH_INDEXER
from servicekit.bus import subscription_queue
from servicekit.consumer import event_consumer
from servicekit.database import Database
from servicekit.metrics import Metrics, outbox_backlog
from servicekit.outbox import ConfirmedPublisher, OutboxRelay, add_outbox_table
from servicekit.settings import DatabaseSettings
from servicekit.sqltypes import utcnow
from services.registry.db import Base
from tests.integration import test_outbox
from tests.integration.factories import association_event
from tests.integration.test_event_consumer import publish, wait_until
from tests.integration.test_outbox import drain, register

registry_engine = test_outbox.registry_engine  # the fixture: the registry's migrated database


def outbox_figures(engine) -> dict[str, float]:
    collect = outbox_backlog("registry", Base.metadata.tables["outbox_messages"])
    return {family.name: family.samples[0].value for family in collect(engine)}


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_relay_counts_what_it_published_and_the_backlog_is_read_from_the_outbox(registry_engine, bus, amqp_uri):
    for number in range(3):
        register(registry_engine, f"Association {number}")
    backlog = outbox_figures(registry_engine)
    before = counted("diasporahub_events_published_total", exchange="registry.events")

    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        OutboxRelay(registry_engine, Base.metadata, amqp_uri).relay_batch(ConfirmedPublisher(connection))

    assert backlog["diasporahub_outbox_backlog"] == 3
    assert backlog["diasporahub_outbox_oldest_unsent_age_seconds"] > 0
    assert counted("diasporahub_events_published_total", exchange="registry.events") == before + 3
    assert outbox_figures(registry_engine) == {
        "diasporahub_outbox_backlog": 0,
        "diasporahub_outbox_oldest_unsent_age_seconds": 0.0,
    }
    drain(amqp_uri, subscription_queue(SEARCH_INDEXER))


class FailingIndexer:
    name = "failing_indexer"
    metrics = Metrics()

    @event_consumer(SEARCH_INDEXER, attempts=2, retry_delay_seconds=0.05)
    def index_association(self, event):
        raise RuntimeError("the index is broken")


def test_a_consumer_counts_retries_and_dead_letters_and_times_each_attempt(
    bus, amqp_uri, nameko_config, container_factory
):
    queue = SEARCH_INDEXER.queue
    retried = counted("diasporahub_events_retried_total", queue=queue)
    dead = counted("diasporahub_events_dead_lettered_total", queue=queue, reason="failed")
    container_factory(FailingIndexer, nameko_config).start()

    publish(amqp_uri, association_event())

    wait_until(lambda: counted("diasporahub_events_dead_lettered_total", queue=queue, reason="failed") == dead + 1)
    assert counted("diasporahub_events_retried_total", queue=queue) == retried + 1
    timed = {"service": "failing_indexer", "entrypoint": "index_association", "kind": "event", "outcome": "error"}
    assert counted("diasporahub_entrypoint_duration_seconds_count", **timed) == 2


class Quiet:
    name = "quiet"
    metrics = Metrics()


def test_a_service_serves_its_metrics_and_readiness_on_its_own_port(
    bus, amqp_uri, nameko_config, container_factory, monkeypatch
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("QUIET_METRICS_LISTEN", f"127.0.0.1:{port}")
    container = container_factory(Quiet, nameko_config)
    container.start()

    ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    missing = requests.get(f"http://127.0.0.1:{port}/nothing", timeout=10)

    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"broker": True}})
    assert "diasporahub_events_consumed_total" in scraped.text
    assert missing.status_code == 404


WAITING_METADATA = MetaData()
WAITING_OUTBOX = add_outbox_table(WAITING_METADATA)


class WaitingSettings(DatabaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAITING_")


class Waiting:
    """A service with an outbox whose relay is not running."""

    name = "waiting"
    unit_of_work = Database(WaitingSettings, WAITING_METADATA, repositories={})
    metrics = Metrics()


def test_readiness_says_how_many_events_wait_in_the_outbox_and_for_how_long_without_being_unready(
    bus, nameko_config, container_factory, monkeypatch, tmp_path
):
    url = f"sqlite:///{tmp_path / 'waiting.sqlite3'}"
    engine = create_engine(url)
    WAITING_METADATA.create_all(engine)
    with engine.begin() as connection:
        connection.execute(WAITING_OUTBOX.insert(), [
            {"event_id": f"event-{number}", "exchange": "waiting.events", "routing_key": "waited.v1", "body": "{}",
             "headers": {}, "created_at": utcnow() - timedelta(minutes=minutes)}
            for number, minutes in enumerate((3, 1))
        ])  # fmt: skip
    engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WAITING_DATABASE_URL", url)
    monkeypatch.setenv("WAITING_METRICS_LISTEN", f"127.0.0.1:{port}")
    container_factory(Waiting, nameko_config).start()

    ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)

    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"] == {"broker": True, "database": True}
    assert body["outbox"]["backlog"] == 2
    assert 180 <= body["outbox"]["oldest_unsent_age_seconds"] < 3600  # the older row, 3 minutes old when written
