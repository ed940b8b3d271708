# ruff: noqa: F811 (the fixtures imported from test_messaging_service are arguments of the tests)
"""The Cell as a recipient of messaging's `notify` (help requests and their escalations): its shared inbox, which
every Cell staff account reads and nobody else does, and its duty mailbox (`MESSAGING_CELL_EMAIL`), over the real
broker and a real SMTP server."""

from uuid import uuid4

import pytest

from contracts.accounts import Principal
from tests.integration.test_messaging_service import (  # noqa: F401 (fixtures)
    CELL,
    admin_of,
    directory,
    messaging,
    messaging_env,
    rpc,
    smtp,
    wait_until,
)

CELL_MAILBOX = "duty@mizodiaspora.mizoram.gov.in"
SECOND_OFFICER = Principal(
    account_id=uuid4(), email="officer2@mizoram.gov.in", display_name="Second officer", is_cell_staff=True
)


@pytest.fixture
def cell_mailbox(monkeypatch):
    monkeypatch.setenv("MESSAGING_CELL_EMAIL", CELL_MAILBOX)


def test_the_cell_gets_it_in_its_shared_inbox_and_duty_mailbox(cell_mailbox, rpc, directory, smtp):
    receipt = rpc("notify", {"recipients": [str(directory["a"])], "cell": True, "kind": "help_request",
                             "subject": "Help needed near Dubai", "body": "Reference DH-2026-000001",
                             "reference": "DH-2026-000001", "urgency": "urgent"}, "alerts")  # fmt: skip

    assert receipt["recipients"] == 2
    wait_until(lambda: smtp.count() >= 2)
    [to_cell] = [email for email in smtp.messages() if email["To"] == CELL_MAILBOX]
    text = to_cell.get_payload()[0].get_payload(decode=True).decode()
    assert "DH-2026-000001" in text and "duty mailbox of the Mizo Diaspora Cell" in text
    assert to_cell["List-Unsubscribe"] is None and "unsubscribe" not in text  # the deployment's address, not a choice
    for officer in (CELL, SECOND_OFFICER):
        [item] = rpc("inbox", officer, {})["items"]
        assert item["recipient"]["kind"] == "cell" and item["subject"] == "Help needed near Dubai"
    assert rpc("inbox", admin_of(directory["b"]), {})["items"] == []
    rpc("mark_read", SECOND_OFFICER, item["message_id"])
    assert rpc("inbox", CELL, {})["unread"] == 0  # one inbox for the Cell: read by one officer, read for all


def test_only_the_cell_may_be_notified_and_without_a_mailbox_its_inbox_still_gets_it(rpc, directory, smtp):
    rpc("notify", {"cell": True, "kind": "help_request", "subject": "Held for the Cell", "body": "Release it",
                   "urgency": "urgent"}, "alerts")  # fmt: skip

    [item] = wait_until(lambda: rpc("inbox", CELL, {})["items"])
    assert item["subject"] == "Held for the Cell" and smtp.count() == 0
