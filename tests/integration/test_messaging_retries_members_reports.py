# ruff: noqa: F811 (the fixtures imported from test_messaging_service are arguments of the tests)
"""Messaging over the real broker with a real SMTP server: retried posts and broadcasts made once
(`Idempotency-Key`), members reached by e-mail when they chose it, reports followed by their reporter and decided
by the Cell, and digests at each recipient's hour in their time zone."""

from datetime import UTC, datetime
from uuid import uuid4

import eventlet
import pytest
from sqlalchemy import create_engine, select

from contracts.accounts import Principal
from contracts.errors import Forbidden, Invalid, NotFound
from contracts.events import MembershipChangedV1
from contracts.individuals import MembershipV1
from services.messaging.db import DeliveryRecord, MessageRecord
from services.messaging.domain import next_digest
from tests.integration.search_contract.events import publish
from tests.integration.test_messaging_service import (  # noqa: F401 (its fixtures, used by name)
    CELL,
    admin_of,
    directory,
    messaging,
    messaging_env,
    rpc,
    smtp,
    wait_until,
)


def rows(database_url: str, statement) -> list:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = list(connection.execute(statement))
    engine.dispose()
    return found


def test_a_retried_post_conversation_or_broadcast_is_made_once(rpc, directory, messaging_env):
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    draft = {"from_association_id": str(directory["a"]), "participants": [str(directory["b"])], "subject": "Meet",
             "body": "Shall we meet?"}  # fmt: skip
    started = rpc("start_conversation", a, draft, "start-1")
    assert rpc("start_conversation", a, draft, "start-1")["id"] == started["id"]
    conversation_id = started["id"]

    posted = rpc("post_message", a, conversation_id, {"body": "In March"}, "post-1")
    again = rpc("post_message", a, conversation_id, {"body": "In March"}, "post-1")
    assert again == posted
    with pytest.raises(Invalid, match="Idempotency-Key: this key was used for a different request"):
        rpc("post_message", a, conversation_id, {"body": "In April"}, "post-1")
    # Keys are per account: B's "post-1" is B's own.
    replied = rpc("post_message", b, conversation_id, {"body": "In March"}, "post-1")
    assert replied["id"] != posted["id"]
    # Without a key, the same text is a new message.
    rpc("post_message", a, conversation_id, {"body": "In March"})
    bodies = [m["body"] for m in rpc("get_conversation", a, conversation_id)["messages"]]
    assert bodies == ["Shall we meet?", "In March", "In March", "In March"]

    announcement = {"audience": {"countries": ["IN"]}, "subject": "Rules", "body": "New rules"}
    sent = rpc("broadcast", CELL, announcement, "broadcast-1")
    assert rpc("broadcast", CELL, announcement, "broadcast-1")["id"] == sent["id"]
    inbox = rpc("inbox", b, {"association_id": str(directory["b"])})["items"]
    assert [item["subject"] for item in inbox].count("Rules") == 1
    made = rows(messaging_env, select(MessageRecord.id).where(MessageRecord.kind == "broadcast"))
    assert len(made) == 1
    with pytest.raises(Invalid):
        rpc("broadcast", CELL, announcement | {"body": "Other rules"}, "broadcast-1")


def member(individual_id, association_id) -> MembershipChangedV1:
    now = datetime.now(UTC)
    membership = MembershipV1(id=uuid4(), individual_id=individual_id, association_id=association_id,
                              status="accepted", requested_at=now, decided_at=now)  # fmt: skip
    return MembershipChangedV1(event_id=uuid4(), occurred_at=now, aggregate_id=membership.id, aggregate_version=2,
                               membership=membership)  # fmt: skip


def test_members_get_e_mails_at_their_account_address_only_if_they_chose_them(
    amqp_uri,
    rpc,
    directory,
    smtp,
    messaging_env,
):
    people = [Principal(account_id=uuid4(), email=f"{name}@example.org", display_name=name.title(),
                        individual_id=uuid4()) for name in ("mami", "mafaka", "zova")]  # fmt: skip
    publish(amqp_uri, *(member(person.individual_id, directory["a"]) for person in people))
    mami, mafaka, _ = people
    assert rpc("get_member_notification_settings", mami)["email_mode"] == "off"
    chosen = rpc("put_member_notification_settings", mami, {"email_mode": "immediate", "language": "lus"})
    assert chosen["email"] == "mami@example.org" and chosen["email_mode"] == "immediate"
    rpc("put_member_notification_settings", mafaka, {"email_mode": "digest", "digest_hour": 20,
                                                     "time_zone": "Asia/Kolkata"})  # fmt: skip
    with pytest.raises(NotFound, match="no profile"):
        rpc("get_member_notification_settings", admin_of(directory["a"]))

    a = admin_of(directory["a"])
    draft = {"from_association_id": str(directory["a"]), "audience": {"members_of": str(directory["a"])},
             "subject": "Annual meeting", "body": "On Sunday"}  # fmt: skip
    sent = wait_until(lambda: _broadcast_to_all(rpc, a, draft, len(people)))
    for person in people:
        assert [item["subject"] for item in rpc("inbox", person, {})["items"]] == ["Annual meeting"]

    wait_until(lambda: smtp.count() >= 1)
    eventlet.sleep(0.3)
    [email] = smtp.messages()
    assert email["To"] == "mami@example.org" and email["Content-Language"] == "lus"
    text = email.get_payload()[0].get_payload(decode=True).decode()
    assert "thupuan thar a lo thleng" in text and "/api/v1/me/notification-settings" in text
    [digest] = rows(messaging_env, select(DeliveryRecord.next_attempt_at, DeliveryRecord.recipient)
                    .where(DeliveryRecord.digest.is_(True)))  # fmt: skip
    assert digest.recipient == f"individual:{mafaka.individual_id}"
    expected = next_digest(datetime.fromisoformat(sent["sent_at"]), hour=20, time_zone="Asia/Kolkata")
    assert digest.next_attempt_at.replace(tzinfo=UTC) == expected

    unsubscribe = "".join(email["List-Unsubscribe"].split()).strip("<>").rsplit("/", 1)[1]
    rpc("unsubscribe", unsubscribe)
    assert rpc("get_member_notification_settings", mami)["email_mode"] == "off"


def _broadcast_to_all(rpc, admin, draft, count):
    """The broadcast, once messaging has seen every membership (its directory follows the registry's events)."""
    try:
        sent = rpc("broadcast", admin, draft, f"members-{count}")
    except Invalid:
        return None
    return sent if sent["recipients"] == count else None


def test_an_associations_digest_goes_at_its_hour_in_its_countrys_zone_unless_it_chose_another(
    rpc,
    directory,
    messaging_env,
):
    a, c = admin_of(directory["a"]), admin_of(directory["c"])
    shown = rpc("put_notification_settings", a, str(directory["a"]), {"email_mode": "digest"})
    assert (shown["digest_hour"], shown["time_zone"]) == (7, "Asia/Kolkata")
    rpc("put_notification_settings", c, str(directory["c"]), {"email_mode": "digest", "digest_hour": 18,
                                                               "time_zone": "Europe/London"})  # fmt: skip
    with pytest.raises(Invalid, match="time zone"):
        rpc("put_notification_settings", c, str(directory["c"]), {"email_mode": "digest", "time_zone": "Mars/Base"})
    sent = rpc("broadcast", CELL, {"audience": {"countries": ["IN", "SG"]}, "subject": "Digest", "body": "Later"})
    when = datetime.fromisoformat(sent["sent_at"])
    due = dict(rows(messaging_env, select(DeliveryRecord.recipient, DeliveryRecord.next_attempt_at)
                    .where(DeliveryRecord.digest.is_(True))))  # fmt: skip
    assert {recipient: moment.replace(tzinfo=UTC) for recipient, moment in due.items()} == {
        f"association:{directory['a']}": next_digest(when, hour=7, time_zone="Asia/Kolkata"),
        f"association:{directory['c']}": next_digest(when, hour=18, time_zone="Europe/London"),
    }


def test_a_reporter_follows_their_report_and_the_cell_dismisses_or_blocks_the_sender(rpc, directory):
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    started = rpc("start_conversation", a, {"from_association_id": str(directory["a"]),
                                            "participants": [str(directory["b"])], "subject": "Buy now",
                                            "body": "Spam"})  # fmt: skip
    first = rpc("post_message", a, started["id"], {"body": "More spam"})
    rpc("report_message", b, started["messages"][0]["id"], {"reason": "spam"})
    rpc("report_message", b, first["id"], {"reason": "more spam"})
    mine = rpc("my_reports", b)["items"]
    assert [(r["subject"], r["status"]) for r in mine] == [("Buy now", "open"), ("Buy now", "open")]
    assert rpc("my_reports", a)["items"] == []

    open_reports = rpc("list_reports", CELL, {"status": "open"})["items"]
    assert len(open_reports) == 2
    with pytest.raises(Forbidden):
        rpc("decide_report", b, str(open_reports[0]["id"]), {"decision": "dismiss"})
    with pytest.raises(NotFound):
        rpc("decide_report", CELL, "12345678", {"decision": "dismiss"})
    with pytest.raises(NotFound):
        rpc("decide_report", CELL, "not-a-number", {"decision": "dismiss"})

    dismissed = rpc("decide_report", CELL, str(open_reports[1]["id"]), {"decision": "dismiss", "reason": "once"})
    assert dismissed["status"] == "dismissed" and dismissed["decided_at"]
    rpc("post_message", a, started["id"], {"body": "still allowed"})
    blocked = rpc("decide_report", CELL, str(open_reports[0]["id"]), {"decision": "block_sender", "reason": "spam"})
    assert blocked["status"] == "sender_blocked"
    with pytest.raises(Forbidden, match="stopped association"):
        rpc("post_message", a, started["id"], {"body": "blocked now"})
    with pytest.raises(Forbidden, match="stopped association"):
        new = {"from_association_id": str(directory["a"]), "participants": [str(directory["c"])], "subject": "New",
               "body": "x"}  # fmt: skip
        rpc("start_conversation", a, new)
    assert {r["status"] for r in rpc("my_reports", b)["items"]} == {"dismissed", "sender_blocked"}
    assert rpc("list_reports", CELL, {"status": "open"})["items"] == []


def test_a_report_of_a_persons_message_cannot_block_an_association(rpc, directory):
    person = Principal(account_id=uuid4(), email="p@example.org", display_name="Mami")
    started = rpc("start_conversation", person, {"participants": [str(directory["a"])], "subject": "Hi",
                                                 "body": "Rude words"})  # fmt: skip
    a = admin_of(directory["a"])
    rpc("report_message", a, started["messages"][0]["id"], {"reason": "rude"})
    [report] = rpc("list_reports", CELL, {})["items"]
    with pytest.raises(Invalid, match="not sent by an association"):
        rpc("decide_report", CELL, str(report["id"]), {"decision": "block_sender"})
    assert rpc("decide_report", CELL, str(report["id"]), {"decision": "dismiss"})["status"] == "dismissed"
