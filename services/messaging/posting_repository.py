"""The statements of a conversation's post, which runs hundreds of times a second, and the sender's claim of the posts
whose deliveries it plans.

Building a statement and going through the ORM cost several times the database's own work: a post's statements are
built once, at import, like the tables, and run in SQLAlchemy Core on the session's connection with their
parameters. They bypass the ORM session, so a unit of work using them must raise an event to be recorded as a write
(servicekit.answered_requests): a post raises `message_posted.v1`.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, bindparam, func, insert, select, update

from services.messaging.db import (
    ConversationRecord,
    InboxRecord,
    MessageRecord,
    ParticipantRecord,
    SendingBlockRecord,
)


@dataclass(frozen=True)
class Participant:
    name: str
    archived: bool


@dataclass(frozen=True)
class PostContext:
    """What a post needs to know first, read in one statement: the conversation, its participants, how many
    messages the account posted lately (up to the limit), and whether any association it may speak as is blocked."""

    subject: str
    participants: dict[str, Participant]
    recent_posts: int
    speaker_blocked: bool


_recent_posts = (
    select(func.count())
    .select_from(
        select(MessageRecord.posted_at)  # in the index with the conditions: the rows themselves are not read
        .where(
            MessageRecord.sender_account_id == bindparam("account_id"),
            MessageRecord.posted_at >= bindparam("since"),
            MessageRecord.kind == "message",
        )
        .limit(bindparam("at_most"))
        .subquery()
    )
    .scalar_subquery()
)
_blocked_speakers = (
    select(func.count())
    .where(
        SendingBlockRecord.association_id.in_(bindparam("speakers", expanding=True)),
        SendingBlockRecord.blocked.is_(True),
    )
    .scalar_subquery()
)
_READ_FOR_POST = (
    select(
        ConversationRecord.subject,
        ParticipantRecord.party,
        ParticipantRecord.name,
        ParticipantRecord.archived,
        _recent_posts.label("recent_posts"),
        _blocked_speakers.label("blocked_speakers"),
    )
    .join(ParticipantRecord, ParticipantRecord.conversation_id == ConversationRecord.id)
    .where(ConversationRecord.id == bindparam("conversation_id"))
)
_INSERT_MESSAGE = insert(MessageRecord.__table__)
# Counted last in a post: the conversation's row is locked from here to the commit only.
_conversations = ConversationRecord.__table__
_COUNT_MESSAGE = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("conversation_id"))
    .values(
        message_count=_conversations.c.message_count + 1,
        last_message_at=bindparam("now", type_=_conversations.c.last_message_at.type),
    )
    .returning(_conversations.c.message_count)
)


CHUNK = 500


class PostingRepository:
    def __init__(self, session):
        self.session = session

    def context(
        self, conversation_id: UUID, *, account_id: UUID, since: datetime, at_most: int, speakers: list[UUID]
    ) -> PostContext | None:
        """None if there is no such conversation. `speakers`: the associations the caller may speak as."""
        rows = (
            self.session.connection()
            .execute(
                _READ_FOR_POST,
                {
                    "conversation_id": conversation_id,
                    "account_id": account_id,
                    "since": since,
                    "at_most": at_most,
                    "speakers": speakers,
                },
            )  # fmt: skip
            .all()
        )
        if not rows:
            return None
        return PostContext(
            subject=rows[0].subject,
            participants={row.party: Participant(row.name, row.archived) for row in rows},
            recent_posts=rows[0].recent_posts,
            speaker_blocked=rows[0].blocked_speakers > 0,
        )

    def add_message(self, **fields) -> None:
        """A conversation's message, whose deliveries the sender plans (`deliveries_planned` false)."""
        self.session.connection().execute(_INSERT_MESSAGE, fields | {"deliveries_planned": False})

    def claim_unplanned(self, limit: int) -> dict[UUID, datetime]:
        """Up to `limit` messages whose deliveries are not planned, marked planned (when each was posted): SKIP
        LOCKED on PostgreSQL lets two senders take different ones, SQLite's single writer serialises them."""
        due = (
            select(MessageRecord.id)
            .where(MessageRecord.deliveries_planned.is_(False))
            .order_by(MessageRecord.posted_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = self.session.execute(
            update(MessageRecord)
            .where(MessageRecord.id.in_(due.scalar_subquery()), MessageRecord.deliveries_planned.is_(False))
            .values(deliveries_planned=True)
            .returning(MessageRecord.id, MessageRecord.posted_at)
            .execution_options(synchronize_session=False)
        )
        return {row.id: row.posted_at for row in claimed.all()}

    def inbox_owners_of(self, message_ids: list[UUID]) -> dict[UUID, list[str]]:
        owners: dict[UUID, list[str]] = {}
        for start in range(0, len(message_ids), CHUNK):
            rows = self.session.execute(
                select(InboxRecord.message_id, InboxRecord.owner)
                .where(InboxRecord.message_id.in_(message_ids[start : start + CHUNK]))
                .order_by(InboxRecord.id)
            )
            for message_id, owner in rows:
                owners.setdefault(message_id, []).append(owner)
        return owners

    def count_message(self, conversation_id: UUID, now: datetime) -> int:
        """One more message, posted `now`; the new count (the conversation's version)."""
        return (
            self.session.connection()
            .execute(_COUNT_MESSAGE, {"conversation_id": conversation_id, "now": now})
            .scalar_one()
        )


_ANY_UNPLANNED = select(MessageRecord.id).where(MessageRecord.deliveries_planned.is_(False)).limit(1)


def any_unplanned(connection: Connection) -> bool:
    """Whether a message waits for its deliveries to be planned (read without taking a write lock)."""
    return connection.execute(_ANY_UNPLANNED).first() is not None
