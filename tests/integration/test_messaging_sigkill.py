"""SIGKILL in the middle of a broadcast's e-mails, then a restart: one inbox copy per recipient, every e-mail
sent, and a repeat at the SMTP server only with the same Message-ID (issue 9).

The messaging service runs as `diasporahub run` runs it, in a process of its own. The issue's figure is 1,000
associations; the suite uses fewer to stay fast (MESSAGING_SIGKILL_RECIPIENTS=1000 for the full run).
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, func, select

from contracts.accounts import Principal
from servicekit.migrations import upgrade
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.db import DeliveryRecord, DirectoryAssociation, InboxRecord
from tests.integration.search_contract.events import association_event, publish
from tests.messaging_servers import SmtpServer

RECIPIENTS = int(os.environ.get("MESSAGING_SIGKILL_RECIPIENTS", "300"))
CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)


def wait_for(condition, timeout_seconds: float, what: str):
    deadline = time.monotonic() + timeout_seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


@pytest.fixture
def environment(tmp_path, amqp_uri, bus):
    url = f"sqlite:///{tmp_path / 'messaging.sqlite3'}"
    upgrade("services.messaging", url)
    with SmtpServer(tmp_path / "maildir") as smtp:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_AMQP_URI")} | {
            "DIASPORAHUB_AMQP_URI": amqp_uri, "MESSAGING_DATABASE_URL": url, "MESSAGING_SMTP_HOST": "127.0.0.1",
            "MESSAGING_SMTP_PORT": str(smtp.port), "MESSAGING_DELIVERY_LEASE_SECONDS": "2",
            "MESSAGING_DELIVERY_BATCH": "50", "MESSAGING_DELIVERY_POLL_SECONDS": "0.2",
        }  # fmt: skip
        yield env, create_engine(url), smtp


def start(env, tmp_path) -> subprocess.Popen:
    log = open(tmp_path / "messaging.log", "ab")  # noqa: SIM115 (the process writes to it)
    return subprocess.Popen(
        [sys.executable, "-m", "servicekit.runner", "services.messaging.service:MessagingService"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def count(engine, statement) -> int:
    with engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def test_a_broadcast_killed_while_sending_ends_with_one_copy_each_and_every_email(environment, amqp_uri, tmp_path):
    env, engine, smtp = environment
    publish(amqp_uri, *(association_event(name=f"Association {n}", email=f"a{n}@example.org", country="IN",
                                          city="Pune") for n in range(RECIPIENTS)))  # fmt: skip
    process = start(env, tmp_path)
    try:
        wait_for(lambda: count(engine, select(func.count()).select_from(DirectoryAssociation)) == RECIPIENTS,
                 60, "the directory")  # fmt: skip
        with RpcClient(BusSettings(amqp_uri=amqp_uri, rpc_timeout_seconds=30)) as client:
            sent = client.call("messaging", "broadcast", CELL.model_dump(mode="json"),
                               {"subject": "New labour rules", "body": "Read them."})  # fmt: skip
        wait_for(lambda: smtp.count() >= RECIPIENTS // 5, 60, "the first e-mails")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        before_restart = smtp.count()
        assert before_restart < RECIPIENTS, "every e-mail went out before the kill: nothing was tested"

        process = start(env, tmp_path)
        wait_for(lambda: len({m["To"] for m in smtp.messages()}) == RECIPIENTS, 120, "every e-mail")
        message_id = UUID(sent["message_id"])
        sent_rows = select(func.count()).where(DeliveryRecord.message_id == message_id, DeliveryRecord.state == "sent")
        wait_for(lambda: count(engine, sent_rows) == RECIPIENTS, 30, "every delivery marked sent")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)

    with engine.connect() as connection:
        copies = Counter(connection.scalars(select(InboxRecord.owner).where(InboxRecord.message_id == message_id)))
    assert len(copies) == RECIPIENTS and set(copies.values()) == {1}
    message_ids = defaultdict(set)
    for email in smtp.messages():
        message_ids[email["To"]].add(email["Message-ID"])
    assert len(message_ids) == RECIPIENTS
    assert all(len(ids) == 1 for ids in message_ids.values()), "a repeat came with another Message-ID"
    engine.dispose()
