"""Two messaging processes side by side (two `servicekit.runner`s on one vhost and one PostgreSQL database), as a
deployment with two replicas runs them (issue 9):

- a broadcast ends with exactly one delivery row per (message, recipient, channel), one e-mail per recipient at
  the SMTP server and one inbox copy each;
- webhooks that fail are retried, and each due retry is sent by one process only: the receiver gets exactly as
  many requests per webhook-id as the row counts attempts (an attempt is counted when it is claimed);
- a post retried at both processes at once with one `Idempotency-Key` is made once, and posts made at once
  are each counted once in their conversation.
"""

import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, func, select

from contracts.accounts import AdministeredAssociation, Principal
from servicekit.migrations import upgrade
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.db import (
    ConversationRecord,
    DeliveryRecord,
    DirectoryAssociation,
    InboxRecord,
    MessageRecord,
)
from tests.integration.search_contract.events import association_event, publish
from tests.integration.test_messaging_sigkill import wait_for
from tests.messaging_servers import SmtpServer, WebhookReceiver

RECIPIENTS = 120
WITH_WEBHOOKS = 30
CELL = Principal(account_id=uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)


@pytest.fixture
def database(postgres_databases):
    url = postgres_databases.create()
    upgrade("services.messaging", url)
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def two_processes(database, amqp_uri, bus, tmp_path):
    url, _ = database
    with SmtpServer(tmp_path / "maildir") as smtp, WebhookReceiver(status=500) as hooks:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_AMQP_URI")} | {
            "DIASPORAHUB_AMQP_URI": amqp_uri, "MESSAGING_DATABASE_URL": url, "MESSAGING_SMTP_HOST": "127.0.0.1",
            "MESSAGING_SMTP_PORT": str(smtp.port), "MESSAGING_DELIVERY_BATCH": "10",
            "MESSAGING_DELIVERY_POLL_SECONDS": "0.05", "MESSAGING_DELIVERY_LEASE_SECONDS": "60",
            "MESSAGING_RETRY_BASE_SECONDS": "0.2", "MESSAGING_RETRY_MAX_SECONDS": "0.4",
            "MESSAGING_RETRY_WINDOW_SECONDS": "120", "MESSAGING_ALLOW_PRIVATE_WEBHOOKS": "true",
            "MESSAGING_POSTS_PER_MINUTE": "100",
        }  # fmt: skip
        logs = [tmp_path / f"messaging-{n}.log" for n in (1, 2)]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "servicekit.runner", "services.messaging.service:MessagingService"],
                env=env,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            for log in logs
        ]
        try:
            wait_for(lambda: all("started messaging" in log.read_text() for log in logs), 60, "both processes")
            yield smtp, hooks, logs
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(15)


def failures_logged(logs) -> list[str]:
    """What the processes logged as failed or gone wrong (not the webhooks' 500s, which are the test's own)."""
    return [line for log in logs for line in log.read_text().splitlines()
            if ("fail" in line.lower() or '"level": "ERROR"' in line or "Traceback" in line)
            and '"deliveries: ' not in line]  # fmt: skip


def count(engine, statement) -> int:
    with engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def test_two_processes_deliver_a_broadcast_once_per_recipient_and_channel(amqp_uri, database, two_processes):
    _, engine = database
    smtp, hooks, logs = two_processes
    events = [association_event(name=f"Association {n}", email=f"a{n}@example.org", country="IN", city="Pune")
              for n in range(RECIPIENTS)]  # fmt: skip
    publish(amqp_uri, *events)
    wait_for(lambda: count(engine, select(func.count()).select_from(DirectoryAssociation)) == RECIPIENTS, 60,
             "the directory")  # fmt: skip
    with RpcClient(BusSettings(amqp_uri=amqp_uri, rpc_timeout_seconds=30)) as client:
        for event in events[:WITH_WEBHOOKS]:
            admin = Principal(account_id=uuid4(), email="admin@example.org", display_name="Admin",
                              administers=[AdministeredAssociation(id=event.aggregate_id, country="IN",
                                                                   verified=True)])  # fmt: skip
            client.call("messaging", "put_notification_settings", admin.model_dump(mode="json"),
                        str(event.aggregate_id), {"email_mode": "immediate", "webhook_url": hooks.url})  # fmt: skip
        sent = client.call("messaging", "broadcast", CELL.model_dump(mode="json"),
                           {"subject": "New labour rules", "body": "Read them."})  # fmt: skip
    message_id = UUID(sent["message_id"])

    # Every webhook fails a few times before the receiver comes back.
    wait_for(lambda: len(hooks.received) >= 3 * WITH_WEBHOOKS, 60, "failed webhook attempts")
    hooks.status = 200
    sent_rows = select(func.count()).where(DeliveryRecord.message_id == message_id, DeliveryRecord.state == "sent")
    wait_for(lambda: count(engine, sent_rows) == RECIPIENTS + WITH_WEBHOOKS, 120, "every delivery sent")

    with engine.connect() as connection:
        deliveries = connection.execute(
            select(DeliveryRecord.id, DeliveryRecord.recipient, DeliveryRecord.channel, DeliveryRecord.attempts,
                   DeliveryRecord.last_error)
            .where(DeliveryRecord.message_id == message_id)
        ).all()  # fmt: skip
        copies = Counter(connection.scalars(select(InboxRecord.owner).where(InboxRecord.message_id == message_id)))
    assert Counter((row.recipient, row.channel) for row in deliveries) == Counter(
        {(f"association:{event.aggregate_id}", "email"): 1 for event in events}
        | {(f"association:{event.aggregate_id}", "webhook"): 1 for event in events[:WITH_WEBHOOKS]}
    )
    assert len(copies) == RECIPIENTS and set(copies.values()) == {1}

    emails = Counter(email["To"] for email in smtp.messages())
    assert len(emails) == RECIPIENTS and set(emails.values()) == {1}, "an e-mail went out twice"

    requests_per_hook = Counter(headers["webhook-id"] for headers, _ in hooks.received)
    attempts = {str(row.id): row.attempts for row in deliveries if row.channel == "webhook"}
    assert min(attempts.values()) >= 2, "no webhook was retried: nothing was tested"
    differing = {hook: f"{requests_per_hook.get(hook, 0)} received, {count} attempts"
                 for hook, count in attempts.items() if requests_per_hook.get(hook, 0) != count}  # fmt: skip
    other_errors = Counter(row.last_error for row in deliveries if row.last_error and "500" not in row.last_error)
    assert dict(requests_per_hook) == attempts, (
        "requests per webhook-id differ from the rows' attempts (more: a retry went out twice; fewer: a request "
        f"was lost on the way): {differing}; ids no row has: {set(requests_per_hook) - set(attempts)}; "
        f"errors other than the 500s: {dict(other_errors)}; the processes' failures: {failures_logged(logs)}"
    )

    claimed_by = [log.read_text().count("deliveries: ") for log in logs]
    assert all(claimed_by), f"one process sent nothing, so nothing ran side by side: {claimed_by}"


def test_a_post_retried_at_both_processes_at_once_is_made_once(amqp_uri, database, two_processes):
    _, engine = database
    [a, b] = [association_event(name=name, email="x@example.org", country="IN", city="Pune") for name in "AB"]
    publish(amqp_uri, a, b)
    wait_for(lambda: count(engine, select(func.count()).select_from(DirectoryAssociation)) == 2, 60, "the directory")
    admin = Principal(
        account_id=uuid4(),
        email="admin@example.org",
        display_name="Admin",
        administers=[AdministeredAssociation(id=a.aggregate_id, country="IN", verified=True)],
    )
    caller = admin.model_dump(mode="json")  # fmt: skip
    with RpcClient(BusSettings(amqp_uri=amqp_uri, rpc_timeout_seconds=30)) as client:
        started = client.call("messaging", "start_conversation", caller,
                              {"from_association_id": str(a.aggregate_id), "participants": [str(b.aggregate_id)],
                               "subject": "Race", "body": "Go"})  # fmt: skip

    def post(_):
        with RpcClient(BusSettings(amqp_uri=amqp_uri, rpc_timeout_seconds=30)) as client:
            return client.call("messaging", "post_message", caller, started["id"], {"body": "once"}, "the-same-key")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert len({answer["id"] for answer in answers}) == 1
    posted = select(func.count()).where(MessageRecord.conversation_id == UUID(started["id"]))
    assert count(engine, posted) == 2

    def post_new(n):  # without a key: each is a message of its own, counted once
        with RpcClient(BusSettings(amqp_uri=amqp_uri, rpc_timeout_seconds=30)) as client:
            return client.call("messaging", "post_message", caller, started["id"], {"body": f"message {n}"})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post_new, range(8)))
    counted = select(ConversationRecord.message_count).where(ConversationRecord.id == UUID(started["id"]))
    assert count(engine, posted) == count(engine, counted) == 10
