"""Messaging tables (SQLAlchemy 2). Queries live in repository.py and delivery/repository.py.

Parties are written as `kind:id` strings (`association:<uuid>`, `account:<uuid>`, `individual:<uuid>`), so one
column names any recipient or sender.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Index, Integer, MetaData, String, Text, UniqueConstraint, Uuid, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.answered_requests import add_answered_requests_table
from servicekit.inbox import add_inbox_table
from servicekit.outbox import add_outbox_table
from servicekit.sqltypes import NAMING_CONVENTION, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


add_outbox_table(Base.metadata)
add_answered_requests_table(Base.metadata)
add_inbox_table(Base.metadata)


class DirectoryAssociation(Base):
    """What messaging knows of an association, from the registry's events; `version` is the registry's."""

    __tablename__ = "directory_associations"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    parent_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    email: Mapped[str] = mapped_column(String(320))
    admin_account_ids: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)


class DirectoryMembership(Base):
    __tablename__ = "directory_memberships"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    individual_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    association_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)


class ConversationRecord(Base):
    __tablename__ = "conversations"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer)


class ParticipantRecord(Base):
    __tablename__ = "conversation_participants"

    conversation_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    party: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_conversation_participants_party", "party"),)


class MessageRecord(Base):
    __tablename__ = "messages"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    conversation_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    broadcast_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(80))
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_account_id: Mapped[UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(400))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A conversation's message is committed with its inbox copies only; the delivery sender plans its e-mails and
    # webhooks (delivery/planning.py). Broadcasts and notifications plan theirs in their own transaction.
    deliveries_planned: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), index=True)

    # The rate limits count an account's recent posts (or broadcasts) from this index alone.
    __table_args__ = (Index("ix_messages_sender_account_id_kind_posted_at", "sender_account_id", "kind", "posted_at"),)


class InboxRecord(Base):
    """One copy of a message per recipient: the unique key makes a repeat impossible."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("owner", "message_id", name="uq_inbox_items_owner_message_id"),
        Index("ix_inbox_items_owner_received_at", "owner", "received_at"),
    )


class BroadcastRecord(Base):
    __tablename__ = "broadcasts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    sender: Mapped[str] = mapped_column(String(80))
    sender_account_id: Mapped[UUID | None] = mapped_column(Uuid)
    audience: Mapped[dict] = mapped_column(JSON)
    recipients: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportRecord(Base):
    """A recipient's report; `status` is `open` until the Cell decides (`dismissed`, `sender_blocked`)."""

    __tablename__ = "message_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    reporter: Mapped[str] = mapped_column(String(80))
    reporter_account_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    reason: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[UUID | None] = mapped_column(Uuid)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (UniqueConstraint("message_id", "reporter", name="uq_message_reports_message_id_reporter"),)


class SettingsRecord(Base):
    __tablename__ = "notification_settings"

    association_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    email_mode: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    unsubscribe_key: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest_hour: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    time_zone: Mapped[str | None] = mapped_column(String(64))


class MemberSettingsRecord(Base):
    """How a person is reached as a member of associations: e-mail to their account's address only if they chose
    it (`email_mode` other than `off`); `email` and `name` are the account's when they last saved."""

    __tablename__ = "member_settings"

    individual_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_mode: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    digest_hour: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    unsubscribe_key: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """A post, conversation or broadcast made with an `Idempotency-Key`: a retry with the same key (by the same
    account) gets what the first made, `result_id`; `fingerprint` tells a different request under the same key."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryRecord(Base):
    """One (message, recipient, channel). `id` is the stable id a receiver sees (Message-ID, webhook-id).

    A sender claims due rows by writing `lease_token` and `lease_until` in one UPDATE (with SKIP LOCKED on
    PostgreSQL): exactly one process sends a due row; a crashed sender's rows are due again when the lease ends.
    """

    __tablename__ = "deliveries"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    recipient: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(200))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("message_id", "recipient", "channel", name="uq_deliveries_message_id_recipient_channel"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_deliveries_recipient_state", "recipient", "state"),
    )


class SendingBlockRecord(Base):
    """An association the Cell stopped from sending (`blocked`), or let again; `version` counts the changes. `reason`,
    `blocked_by` and `blocked_at` are the last change's."""

    __tablename__ = "sending_blocks"

    association_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    blocked_by: Mapped[UUID] = mapped_column(Uuid)
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
