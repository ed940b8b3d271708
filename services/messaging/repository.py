"""Conversations, messages, inbox copies, broadcasts, reports and notification settings."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from contracts.messaging import ConversationV1, InboxItem, MessageV1
from services.messaging.db import (
    BroadcastRecord,
    ConversationRecord,
    DeliveryRecord,
    InboxRecord,
    MemberSettingsRecord,
    MessageRecord,
    ParticipantRecord,
    SettingsRecord,
)
from services.messaging.domain import party_of

CHUNK = 500
_INSERT_INBOX_COPY = insert(InboxRecord.__table__)
_messages = MessageRecord.__table__
_MESSAGES = select(_messages).where(_messages.c.id.in_(bindparam("ids", expanding=True)))


def message_of(record: MessageRecord) -> MessageV1:
    return MessageV1(
        id=record.id,
        conversation_id=record.conversation_id,
        broadcast_id=record.broadcast_id,
        sender=party_of(record.sender, record.sender_name),
        body=record.body,
        html=record.html,
        posted_at=record.posted_at,
        contact=record.contact,
    )


class MessageRepository:
    def __init__(self, session: Session):
        self.session = session

    # conversations

    def add_conversation(self, *, participants: dict[str, str], **fields) -> None:
        record = ConversationRecord(**fields)
        self.session.add(record)
        self.session.add_all(
            ParticipantRecord(conversation_id=record.id, party=party, name=name, archived=False)
            for party, name in participants.items()
        )

    def conversation(self, conversation_id: UUID) -> ConversationRecord | None:
        return self.session.get(ConversationRecord, conversation_id)

    def conversation_with_participants(
        self, conversation_id: UUID
    ) -> tuple[ConversationRecord | None, dict[str, ParticipantRecord]]:
        """Both in one query (a post reads them first thing)."""
        rows = self.session.execute(
            select(ConversationRecord, ParticipantRecord)
            .join(ParticipantRecord, ParticipantRecord.conversation_id == ConversationRecord.id)
            .where(ConversationRecord.id == conversation_id)
        ).all()
        return (rows[0][0] if rows else None), {participant.party: participant for _, participant in rows}

    def participants(self, conversation_id: UUID) -> dict[str, ParticipantRecord]:
        records = self.session.scalars(
            select(ParticipantRecord).where(ParticipantRecord.conversation_id == conversation_id)
        )
        return {record.party: record for record in records}

    def conversation_view(self, record: ConversationRecord, readers: set[str], *, messages: bool) -> ConversationV1:
        participants = self.participants(record.id)
        history = []
        if messages:
            history = [
                message_of(message)
                for message in self.session.scalars(
                    select(MessageRecord)
                    .where(MessageRecord.conversation_id == record.id)
                    .order_by(MessageRecord.posted_at, MessageRecord.id)
                )
            ]
        return ConversationV1(
            id=record.id,
            subject=record.subject,
            participants=[party_of(party, participant.name) for party, participant in participants.items()],
            started_at=record.started_at,
            last_message_at=record.last_message_at,
            archived=any(participants[party].archived for party in readers if party in participants),
            messages=history,
        )

    def conversations_of(self, readers: set[str], *, archived: bool, limit: int = 200) -> list[ConversationRecord]:
        ids = select(ParticipantRecord.conversation_id).where(
            ParticipantRecord.party.in_(readers), ParticipantRecord.archived.is_(archived)
        )
        return list(
            self.session.scalars(
                select(ConversationRecord)
                .where(ConversationRecord.id.in_(ids))
                .order_by(ConversationRecord.last_message_at.desc())
                .limit(limit)
            )
        )

    def archive(self, conversation_id: UUID, parties: set[str]) -> None:
        self.session.execute(
            update(ParticipantRecord)
            .where(ParticipantRecord.conversation_id == conversation_id, ParticipantRecord.party.in_(parties))
            .values(archived=True)
        )

    def unarchive_all(self, conversation_id: UUID) -> None:
        """A new message brings the conversation back for everyone who archived it."""
        self.session.execute(
            update(ParticipantRecord)
            .where(ParticipantRecord.conversation_id == conversation_id, ParticipantRecord.archived.is_(True))
            .values(archived=False)
        )

    # messages and inbox copies

    def add_message(self, **fields) -> MessageRecord:
        record = MessageRecord(**fields)
        self.session.add(record)
        return record

    def message(self, message_id: UUID) -> MessageRecord | None:
        return self.session.get(MessageRecord, message_id)

    def messages(self, message_ids: set[UUID]) -> dict[UUID, Row]:
        """Many at once, as rows in Core (a sender's batch holds a post's deliveries, each of another message)."""
        ids, found = list(message_ids), {}
        connection = self.session.connection()
        for start in range(0, len(ids), CHUNK):
            found.update((row.id, row) for row in connection.execute(_MESSAGES, {"ids": ids[start : start + CHUNK]}))
        return found

    def message_view(self, message_id: UUID) -> MessageV1:
        return message_of(self.session.get(MessageRecord, message_id))

    def posted_since(self, account_id: UUID, since: datetime, *, broadcasts: bool, at_most: int) -> int:
        """Counted up to `at_most` only (the rate limit): an account at its limit costs no more than one below it."""
        kind = ("broadcast",) if broadcasts else ("message",)
        recent = (
            select(MessageRecord.posted_at)  # in the index with the conditions: the rows themselves are not read
            .where(
                MessageRecord.sender_account_id == account_id,
                MessageRecord.posted_at >= since,
                MessageRecord.kind.in_(kind),
            )
            .limit(at_most)
        )
        return self.session.execute(select(func.count()).select_from(recent.subquery())).scalar_one()

    def deliver_to_inboxes(self, message_id: UUID, owners: list[str], now: datetime) -> None:
        """Core, built once, on the session's connection: every post runs it (services.messaging.posting_repository).
        The session is flushed first, for a message added through it."""
        self.session.flush()
        rows = [{"owner": owner, "message_id": message_id, "received_at": now, "read_at": None} for owner in owners]
        for start in range(0, len(rows), CHUNK):
            self.session.connection().execute(_INSERT_INBOX_COPY, rows[start : start + CHUNK])

    def inbox(self, owners: set[str], *, unread_only: bool, limit: int = 200) -> list[InboxItem]:
        query = (
            select(InboxRecord, MessageRecord)
            .join(MessageRecord, MessageRecord.id == InboxRecord.message_id)
            .where(InboxRecord.owner.in_(owners))
            .order_by(InboxRecord.received_at.desc(), InboxRecord.id.desc())
            .limit(limit)
        )
        if unread_only:
            query = query.where(InboxRecord.read_at.is_(None))
        return [
            InboxItem(
                message_id=message.id,
                recipient=party_of(item.owner),
                kind=message.kind,
                conversation_id=message.conversation_id,
                broadcast_id=message.broadcast_id,
                subject=message.subject,
                sender=party_of(message.sender, message.sender_name),
                html=message.html,
                received_at=item.received_at,
                read_at=item.read_at,
            )
            for item, message in self.session.execute(query)
        ]

    def unread_count(self, owners: set[str]) -> int:
        return self.session.execute(
            select(func.count()).where(InboxRecord.owner.in_(owners), InboxRecord.read_at.is_(None))
        ).scalar_one()

    def inbox_owners(self, message_id: UUID, parties: set[str]) -> set[str]:
        return set(
            self.session.scalars(
                select(InboxRecord.owner).where(InboxRecord.message_id == message_id, InboxRecord.owner.in_(parties))
            )
        )

    def mark_read(self, message_id: UUID, owners: set[str], now: datetime) -> None:
        self.session.execute(
            update(InboxRecord)
            .where(InboxRecord.message_id == message_id, InboxRecord.owner.in_(owners), InboxRecord.read_at.is_(None))
            .values(read_at=now)
        )

    # broadcasts

    def add_broadcast(self, **fields) -> None:
        self.session.add(BroadcastRecord(**fields))

    def broadcast(self, broadcast_id: UUID) -> BroadcastRecord | None:
        return self.session.get(BroadcastRecord, broadcast_id)

    def read_count(self, message_id: UUID) -> int:
        return self.session.execute(
            select(func.count()).where(InboxRecord.message_id == message_id, InboxRecord.read_at.is_not(None))
        ).scalar_one()

    def delivery_counts(self, message_id: UUID) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        rows = self.session.execute(
            select(DeliveryRecord.channel, DeliveryRecord.state, func.count())
            .where(DeliveryRecord.message_id == message_id)
            .group_by(DeliveryRecord.channel, DeliveryRecord.state)
        )
        for channel, state, count in rows:
            counts.setdefault(channel, {})[state] = count
        return counts

    # notification settings

    def _by_ids(self, column, ids: list[UUID]) -> dict:
        found = {}
        for start in range(0, len(ids), CHUNK):
            query = select(column.class_).where(column.in_(ids[start : start + CHUNK]))
            found.update((getattr(record, column.key), record) for record in self.session.scalars(query))
        return found

    def settings(self, association_ids: list[UUID]) -> dict[UUID, SettingsRecord]:
        return self._by_ids(SettingsRecord.association_id, association_ids)

    def add_settings(self, rows: list[dict]) -> None:
        """New settings rows at once (claiming deliveries gives every recipient its unsubscribe key)."""
        for start in range(0, len(rows), CHUNK):
            self.session.execute(insert(SettingsRecord), rows[start : start + CHUNK])

    def save_settings(self, **fields) -> None:
        self.session.merge(SettingsRecord(**fields))

    def settings_by_unsubscribe_key(self, key: str) -> SettingsRecord | MemberSettingsRecord | None:
        """An association's settings or a member's, whichever the unsubscribe link's key belongs to."""
        for model in (SettingsRecord, MemberSettingsRecord):
            record = self.session.scalars(select(model).where(model.unsubscribe_key == key)).first()
            if record is not None:
                return record
        return None

    def member_settings(self, individual_ids: list[UUID]) -> dict[UUID, MemberSettingsRecord]:
        return self._by_ids(MemberSettingsRecord.individual_id, individual_ids)

    def save_member_settings(self, **fields) -> None:
        self.session.merge(MemberSettingsRecord(**fields))

    def forget_member_settings(self, individual_id: UUID) -> None:
        self.session.execute(delete(MemberSettingsRecord).where(MemberSettingsRecord.individual_id == individual_id))
