"""Alerts tables (SQLAlchemy 2). Queries live in each feature's repository.py.

What a person in need told us that could find them (contact details, the exact place, the description) is kept
only sealed (`*_sealed`, Fernet tokens: services/alerts/protection.py) and emptied a while after the case closes.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, Index, Integer, MetaData, String, Text, Uuid
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


class ReferenceNumber(Base):
    """The sequence of help request references (`DH-2026-000123`): one row per number given."""

    __tablename__ = "reference_numbers"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)


class HelpRequestRecord(Base):
    """`due_at` is when the service must act next (match, or escalate to the next ring); `round` counts those
    actions, so that one conditional UPDATE lets exactly one process take each (services/alerts/README.md)."""

    __tablename__ = "help_requests"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(200))
    approximate_lat: Mapped[float | None] = mapped_column(Float)
    approximate_lon: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(String(400))
    languages: Mapped[list[str]] = mapped_column(JSON)
    description_sealed: Mapped[str | None] = mapped_column(Text)
    location_sealed: Mapped[str | None] = mapped_column(Text)
    contact_sealed: Mapped[str | None] = mapped_column(Text)
    requester_account_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    requester_address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    follow_key_hash: Mapped[str | None] = mapped_column(String(64))
    on_behalf_of_someone_else: Mapped[bool] = mapped_column(Boolean)
    held_for_cell: Mapped[bool] = mapped_column(Boolean)
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    ring: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_help_requests_status_due_at", "status", "due_at"),)


class NotificationRecord(Base):
    """An association told of a help request, and what it answered."""

    __tablename__ = "help_request_notifications"

    help_request_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    association_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    ring: Mapped[str] = mapped_column(String(20))
    distance_km: Mapped[float | None] = mapped_column(Float)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)


class TimelineRecord(Base):
    __tablename__ = "help_request_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    help_request_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(60))
    note_sealed: Mapped[str | None] = mapped_column(Text)


class ViewRecord(Base):
    """Who saw a help request's contact details and exact place, and when."""

    __tablename__ = "help_request_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    help_request_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    viewer_account_id: Mapped[UUID | None] = mapped_column(Uuid)
    viewer: Mapped[str] = mapped_column(String(60))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequesterBlockRecord(Base):
    """A requester the Cell stopped from raising help requests: by account, by client address, or both."""

    __tablename__ = "requester_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    help_request_id: Mapped[UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)
    blocked_by: Mapped[UUID] = mapped_column(Uuid)
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdvisoryRecord(Base):
    """An advisory the Cell published (`document`: the public AdvisoryV1); `delivered_at` once its recipients were
    found and notified (advisories/handlers.py: deliver)."""

    __tablename__ = "advisories"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    published_by: Mapped[UUID] = mapped_column(Uuid)
    document: Mapped[dict] = mapped_column(JSON)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdvisoryRecipientRecord(Base):
    """An association or person an advisory reached, and their place (no finer than the city)."""

    __tablename__ = "advisory_recipients"

    advisory_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    party: Mapped[str] = mapped_column(String(60), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(200))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SafetyAnswerRecord(Base):
    """The latest answer for one party to an advisory's safety check; `version` counts its answers."""

    __tablename__ = "safety_answers"

    advisory_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    party: Mapped[str] = mapped_column(String(60), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(200))
    answered_by: Mapped[UUID] = mapped_column(Uuid)
    for_association: Mapped[UUID | None] = mapped_column(Uuid)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    help_request_id: Mapped[UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)


class AdvisoryPersonRecord(Base):
    """An individual as the registry's events describe them (`version`: the registry's; 0 while only their choice
    is known), and whether they asked to receive advisories (their choice, made here)."""

    __tablename__ = "advisory_people"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    association_ids: Mapped[list[str]] = mapped_column(JSON)
    receives_advisories: Mapped[bool] = mapped_column(Boolean, index=True)
    version: Mapped[int] = mapped_column(Integer)
