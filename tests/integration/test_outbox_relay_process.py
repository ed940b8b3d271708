"""A service's outbox relay as a process of its own (servicekit/relay.py): it publishes with no service process
running at all, so a busy service cannot hold its events back; and a service told that its relay runs apart does
not relay as well."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from nameko.testing.utils import get_extension

from contracts.topology import SEARCH_INDEXER
from servicekit.bus import subscription_queue
from servicekit.database import Database, create_database_engine
from servicekit.outbox import CommitWatch, relay_variable, unsent_count
from services.catalogue import service
from services.registry.db import Base
from services.registry.service import RegistryService
from tests.integration import test_outbox
from tests.integration.test_outbox import drain, register

registry_engine = test_outbox.registry_engine


def wait_for(condition, timeout_seconds: float, what: str):
    deadline = time.monotonic() + timeout_seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def test_the_relay_process_publishes_the_outbox_in_order_with_no_service_running(
    registry_engine, database_url, bus, amqp_uri
):
    events = [register(registry_engine, f"Mizo Fellowship {number}") for number in range(3)]
    environment = os.environ | {"REGISTRY_DATABASE_URL": database_url, "DIASPORAHUB_AMQP_URI": amqp_uri}
    environment.pop("REGISTRY_AMQP_URI", None)
    relay = subprocess.Popen([sys.executable, "-m", *service("registry").relay_arguments()], env=environment)
    try:
        wait_for(lambda: unsent_count(registry_engine, Base.metadata) == 0, 20, "the relay process to publish")
        later = register(registry_engine, "Mizo Fellowship Later")
        wait_for(lambda: unsent_count(registry_engine, Base.metadata) == 0, 20, "the relay process to publish again")
    finally:
        relay.send_signal(signal.SIGTERM)
        exit_code = relay.wait(20)

    delivered = drain(amqp_uri, subscription_queue(SEARCH_INDEXER))
    assert [message.payload["event_id"] for message in delivered] == [str(e.event_id) for e in (*events, later)]
    assert exit_code == 0


def test_a_service_whose_relay_runs_apart_does_not_relay_itself(
    nameko_config, container_factory, tmp_path, monkeypatch
):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    alone = container_factory(RegistryService, nameko_config)
    alone.start()
    monkeypatch.setenv(relay_variable("registry"), "process")
    apart = container_factory(RegistryService, nameko_config)
    apart.start()

    assert get_extension(alone, Database).relay is not None
    assert get_extension(apart, Database).relay is None


def test_on_sqlite_the_relay_claims_again_only_after_another_connection_commits(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    Base.metadata.create_all(engine)
    watch = CommitWatch(engine)
    watch.LOOK_ANYWAY_SECONDS = 3600
    try:
        first_look, idle = watch.maybe_new(), watch.maybe_new()
        register(engine, "Mizo Fellowship Oslo")
        after_a_commit, idle_again = watch.maybe_new(), watch.maybe_new()
    finally:
        watch.close()
        engine.dispose()

    assert (first_look, idle, after_a_commit, idle_again) == (True, False, True, False)


def test_on_sqlite_a_commit_that_leaves_no_unsent_event_is_no_reason_to_claim(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    Base.metadata.create_all(engine)
    watch = CommitWatch(engine)
    watch.LOOK_ANYWAY_SECONDS = 3600
    outbox = Base.metadata.tables["outbox_messages"]
    try:
        register(engine, "Mizo Fellowship Oslo")
        first_look = watch.maybe_new()
        with engine.begin() as connection:
            connection.execute(outbox.update().values(sent_at=outbox.c.created_at))
        after_the_relay_marked_it_sent = watch.maybe_new()
        with engine.begin() as connection:
            row = {"request_id": "r-1", "method": "registry.whoami", "recorded_at": datetime.now(UTC)}
            connection.execute(Base.metadata.tables["answered_requests"].insert(), row)
        after_a_commit_without_events = watch.maybe_new()
        register(engine, "Mizo Fellowship Bergen")
        after_an_event = watch.maybe_new()
    finally:
        watch.close()
        engine.dispose()

    assert (first_look, after_the_relay_marked_it_sent, after_a_commit_without_events, after_an_event) == (
        True,
        False,
        False,
        True,
    )
