# ruff: noqa: F811 (the fixtures imported from test_messaging_service are arguments of the tests)
"""Messaging over the real broker: reports, decisions and sending blocks are announced through its outbox; an
association's new e-mail address, from the registry's event, is where its e-mails go; a person who deleted their
account is written to no more; an admin who deleted their account is no longer one of their associations' admins."""

from datetime import UTC, datetime
from uuid import uuid4

import eventlet
from sqlalchemy import create_engine, select

from contracts.accounts import Principal
from contracts.events import (
    AccountDeletedV1,
    AssociationRegisteredV1,
    AssociationUpdatedV1,
    IndividualDeletedV1,
    MessageReportedV1,
    ReportDecidedV1,
    SendingBlockedV1,
    SendingUnblockedV1,
    report_aggregate_id,
)
from contracts.topology import PUBLISHED
from servicekit.outbox import TABLE_NAME
from services.messaging.db import (
    Base,
    DeliveryRecord,
    DirectoryAssociation,
    DirectoryMembership,
    MemberSettingsRecord,
)
from tests.integration.search_contract.events import association_event, publish
from tests.integration.test_messaging_retries_members_reports import _broadcast_to_all, member, rows
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

MODERATION = (MessageReportedV1, ReportDecidedV1, SendingBlockedV1, SendingUnblockedV1)


def moderation_events(database_url: str) -> list:
    """Messaging's moderation events as its outbox holds them, in the order they were written."""
    table = Base.metadata.tables[TABLE_NAME]
    by_key = {event.routing_key: event for event in MODERATION}
    engine = create_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(select(table.c.routing_key, table.c.body).order_by(table.c.id)).all()
    engine.dispose()
    return [by_key[key].model_validate_json(body) for key, body in found if key in by_key]


def test_reports_decisions_and_blocks_are_announced_once_each(rpc, directory, messaging_env):
    assert set(MODERATION) <= set(PUBLISHED["messaging"])
    a, b = admin_of(directory["a"]), admin_of(directory["b"])
    started = rpc("start_conversation", a, {"from_association_id": str(directory["a"]),
                                            "participants": [str(directory["b"])], "subject": "Buy now",
                                            "body": "Spam"})  # fmt: skip
    message_id = started["messages"][0]["id"]
    rpc("report_message", b, message_id, {"reason": "spam"})
    rpc("report_message", b, message_id, {"reason": "spam again"})
    [report] = rpc("list_reports", CELL, {})["items"]
    rpc("decide_report", CELL, str(report["id"]), {"decision": "dismiss"})
    rpc("decide_report", CELL, str(report["id"]), {"decision": "block_sender", "reason": "spam"})
    rpc("block_sending", CELL, str(directory["a"]), {"blocked": False, "reason": "they said sorry"})
    rpc("block_sending", CELL, str(directory["a"]), {"blocked": False})

    reported, dismissed, blocked, decided, unblocked = moderation_events(messaging_env)

    report_aggregate = report_aggregate_id(report["id"])
    assert isinstance(reported, MessageReportedV1)
    assert (reported.aggregate_id, reported.aggregate_version) == (report_aggregate, 1)
    assert reported.report_id == report["id"]
    assert str(reported.message_id) == message_id
    assert (reported.reporter, reported.sender) == (f"association:{directory['b']}", f"association:{directory['a']}")
    assert isinstance(dismissed, ReportDecidedV1) and isinstance(decided, ReportDecidedV1)
    assert [(e.aggregate_id, e.aggregate_version, e.status) for e in (dismissed, decided)] == [
        (report_aggregate, 2, "dismissed"), (report_aggregate, 3, "sender_blocked")
    ]  # fmt: skip
    assert decided.decided_by == CELL.account_id
    assert isinstance(blocked, SendingBlockedV1) and isinstance(unblocked, SendingUnblockedV1)
    assert [(e.association_id, e.aggregate_id, e.aggregate_version, e.reason) for e in (blocked, unblocked)] == [
        (directory["a"], directory["a"], 1, "spam"), (directory["a"], directory["a"], 2, "they said sorry")
    ]  # fmt: skip
    rpc("post_message", a, started["id"], {"body": "sorry"})


def test_an_associations_new_address_from_the_registry_gets_its_e_mails(amqp_uri, rpc, directory, smtp):
    moved = dict(association_id=directory["b"], name="Hyderabad Mizo Youth", country="IN", city="Hyderabad")
    publish(amqp_uri, association_event(AssociationUpdatedV1, version=2, email="new-b@example.org", **moved))
    publish(amqp_uri, association_event(AssociationUpdatedV1, version=2, email="b@example.org", **moved))
    b = admin_of(directory["b"])
    wait_until(lambda: rpc("get_notification_settings", b, str(directory["b"]))["email"] == "new-b@example.org")

    rpc("broadcast", CELL, {"audience": {"countries": ["IN"]}, "subject": "New rules", "body": "Read them"})

    wait_until(lambda: smtp.count() >= 2)
    eventlet.sleep(0.3)
    assert sorted(email["To"] for email in smtp.messages()) == ["a@example.org", "new-b@example.org"]


def test_a_person_who_deleted_their_account_is_written_to_no_more(amqp_uri, rpc, directory, messaging_env):
    person = Principal(account_id=uuid4(), email="mami@example.org", display_name="Mami", individual_id=uuid4())
    publish(amqp_uri, member(person.individual_id, directory["a"]))
    rpc("put_member_notification_settings", person, {"email_mode": "digest", "digest_hour": 20})
    a = admin_of(directory["a"])
    draft = {"from_association_id": str(directory["a"]), "audience": {"members_of": str(directory["a"])},
             "subject": "Annual meeting", "body": "On Sunday"}  # fmt: skip
    wait_until(lambda: _broadcast_to_all(rpc, a, draft, 1))
    party = f"individual:{person.individual_id}"
    assert rows(messaging_env, select(DeliveryRecord.state).where(DeliveryRecord.recipient == party)) == [("queued",)]

    deleted = IndividualDeletedV1(event_id=uuid4(), occurred_at=datetime.now(UTC),
                                  aggregate_id=person.individual_id, aggregate_version=2)  # fmt: skip
    publish(amqp_uri, deleted, deleted)

    member_settings = select(MemberSettingsRecord.email).where(
        MemberSettingsRecord.individual_id == person.individual_id
    )
    wait_until(lambda: rows(messaging_env, member_settings) == [])
    assert rows(messaging_env, select(DeliveryRecord.id).where(DeliveryRecord.recipient == party)) == []
    membership = select(DirectoryMembership.individual_id, DirectoryMembership.status)
    assert rows(messaging_env, membership.where(DirectoryMembership.association_id == directory["a"])) == [
        (None, "accepted")
    ]


def test_an_admin_who_deleted_their_account_leaves_their_associations_admins(amqp_uri, messaging, messaging_env):
    leaving, staying = uuid4(), uuid4()
    registered = association_event(AssociationRegisteredV1, status="pending", name="New fellowship", country="IN",
                                   city="Pune", email="new@example.org")  # fmt: skip
    deleted = AccountDeletedV1(event_id=uuid4(), occurred_at=datetime.now(UTC), aggregate_id=leaving,
                               aggregate_version=1, administered=[registered.aggregate_id])  # fmt: skip
    publish(amqp_uri, registered.model_copy(update={"admin_account_ids": [leaving, staying]}), deleted, deleted)

    admins = select(DirectoryAssociation.admin_account_ids).where(DirectoryAssociation.id == registered.aggregate_id)
    wait_until(lambda: rows(messaging_env, admins) == [([str(staying)],)])
