"""A conversation's messages are committed with their inbox copies only; the delivery sender plans their e-mails and
webhooks after, once per message: on SQLite and PostgreSQL, and on PostgreSQL also by two senders at the same time
(SKIP LOCKED), as each recipient's settings say."""

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from contracts.accounts import AdministeredAssociation, Principal
from contracts.associations import AssociationV1
from contracts.messaging import ConversationDraft, MessageDraft
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from services.messaging import handlers, planning
from services.messaging.db import Base, DeliveryRecord, MessageRecord
from services.messaging.delivery.sender import REPOSITORIES
from services.messaging.domain import Policy
from services.messaging.markup import render
from services.messaging.posting_repository import PostingRepository, any_unplanned

POLICY = Policy(posts_per_minute=1000, retry_window=timedelta(hours=1))


def association(name: str) -> AssociationV1:
    now = datetime.now(UTC)
    return AssociationV1(id=uuid4(), name=name, country="IN", city="Pune", languages=["lus"],
                         email=f"{name.lower()}@example.org", status="verified", version=1, registered_at=now,
                         updated_at=now)  # fmt: skip


def a_conversation_of_three(database_url: str, posts: int):
    """A speaks to B and C, then posts `posts` more; B wants e-mails and a webhook, C no e-mails."""
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    unit_of_work = partial(UnitOfWork, sessionmaker(engine, expire_on_commit=False), Base.metadata,
                           repositories=REPOSITORIES)  # fmt: skip
    a, b, c = association("A"), association("B"), association("C")
    with unit_of_work() as work:
        for each in (a, b, c):
            work.directory.put_association(each, None)
        for each, mode, hook in ((b, "immediate", "https://hooks.example.org/b"), (c, "off", None)):
            work.messages.save_settings(association_id=each.id, email_mode=mode, email=None, language="en",
                                        webhook_url=hook, webhook_secret="whsec_x" if hook else None,
                                        unsubscribe_key=uuid4().hex, updated_at=datetime.now(UTC))  # fmt: skip
    admin = Principal(account_id=uuid4(), email="admin@example.org", display_name="Admin",
                      administers=[AdministeredAssociation(id=a.id, country="IN", verified=True)])  # fmt: skip
    draft = ConversationDraft(from_association_id=a.id, participants=[b.id, c.id], subject="Joint event", body="Hi")
    started = handlers.start_conversation(unit_of_work=unit_of_work, now=datetime.now(UTC), principal=admin,
                                          draft=draft, render=render, policy=POLICY)  # fmt: skip
    for number in range(posts):
        handlers.post_message(unit_of_work=unit_of_work, now=datetime.now(UTC), principal=admin,
                              conversation_id=started.id, draft=MessageDraft(body=f"Message {number}"), render=render,
                              policy=POLICY)  # fmt: skip
    return engine, unit_of_work, b


def deliveries(unit_of_work) -> list[tuple]:
    with unit_of_work() as work:
        return [tuple(row) for row in work.session.execute(
            select(DeliveryRecord.message_id, DeliveryRecord.recipient, DeliveryRecord.channel, DeliveryRecord.state)
        )]  # fmt: skip


def test_the_sender_plans_each_posted_message_once_as_its_recipients_settings_say(database_url):
    engine, unit_of_work, b = a_conversation_of_three(database_url, posts=4)
    assert deliveries(unit_of_work) == []

    planned = [planning.plan_posted_messages(unit_of_work=unit_of_work, policy=POLICY, limit=3) for _ in range(3)]

    found = deliveries(unit_of_work)
    with unit_of_work() as work:
        messages = list(work.session.scalars(select(MessageRecord.id)))
    engine.dispose()
    assert planned == [3, 2, 0]
    assert sorted(found) == sorted(
        (message_id, f"association:{b.id}", channel, "queued") for message_id in messages for channel in
        ("email", "webhook")
    )  # fmt: skip


def test_on_postgresql_two_senders_planning_at_once_take_different_messages(postgres_databases):
    engine, unit_of_work, _ = a_conversation_of_three(postgres_databases.create(), posts=9)
    sessions = sessionmaker(engine, expire_on_commit=False)

    with sessions() as first, sessions() as second:
        taken = PostingRepository(first).claim_unplanned(6)
        skipped_to = PostingRepository(second).claim_unplanned(6)
        second.commit()
        first.commit()
    with sessions() as later:
        left = PostingRepository(later).claim_unplanned(100)
    engine.dispose()

    assert (len(taken), len(skipped_to), len(left)) == (6, 4, 0)
    assert not set(taken) & set(skipped_to)


def test_a_sender_s_look_finds_posts_waiting_to_be_planned(database_url):
    engine, unit_of_work, _ = a_conversation_of_three(database_url, posts=2)
    with engine.connect() as connection:
        waiting = any_unplanned(connection)
    with unit_of_work() as work:
        work.posting.claim_unplanned(100)
    with engine.connect() as connection:
        all_planned = any_unplanned(connection)
    engine.dispose()

    assert (waiting, all_planned) == (True, False)
