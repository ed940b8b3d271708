"""Registry tables (SQLAlchemy 2). Queries live in repositories.py."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.answered_requests import add_answered_requests_table
from servicekit.outbox import add_outbox_table
from servicekit.sqltypes import NAMING_CONVENTION, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


add_outbox_table(Base.metadata)
add_answered_requests_table(Base.metadata)


class AccountRecord(Base):
    __tablename__ = "accounts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_cell_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Cell staff's second factor (TOTP): the secret is set at enrolment and confirmed by a first code; the last
    # time step whose code was accepted, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class SessionRecord(Base):
    """Only a hash of each token is kept: a copy of this table opens no session."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A session unused for idle_timeout_seconds ends (none: only its expiry ends it, as before 0003).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idle_timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    # Opened by Cell staff before their second factor was confirmed: it may only enrol.
    must_enrol_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)


class RecoveryCodeRecord(Base):
    """Cell staff's one-time recovery codes, as sha256 only (about 49 random bits each): a copy signs no one in."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottleRecord(Base):
    """Failed logins per key (`account:<email>` or `address:<ip>`) in the current window."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssociationRecord(Base):
    """The whole association is `document` (contracts.associations.AssociationV1); the columns are for queries."""

    __tablename__ = "associations"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    merged_into: Mapped[UUID | None] = mapped_column(Uuid)
    verification_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict] = mapped_column(JSON)


class AssociationAdminRecord(Base):
    __tablename__ = "association_admins"

    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_association_admins_account_id", "account_id"),)


class PossibleDuplicateRecord(Base):
    __tablename__ = "possible_duplicates"

    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True)
    candidate_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class DuplicateNameRecord(Base):
    """An open association's names split into words, for the duplicate finder (associations/name_index.py)."""

    __tablename__ = "duplicate_names"

    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    words: Mapped[str] = mapped_column(Text)


class DuplicateKeyRecord(Base):
    """The duplicate finder's keys of an open association's names (duplicates.name_keys), by country."""

    __tablename__ = "duplicate_keys"

    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))

    __table_args__ = (Index("ix_duplicate_keys_country_key", "country", "key"),)


class HistoryRecord(Base):
    """One changed field of one association: who, when, old value, new value."""

    __tablename__ = "association_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[UUID | None] = mapped_column(Uuid)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    field: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[object | None] = mapped_column(JSON)
    new_value: Mapped[object | None] = mapped_column(JSON)


class IndividualRecord(Base):
    __tablename__ = "individuals"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON)
    visibility: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MembershipRecord(Base):
    """`individual_id` is emptied when the individual deletes their account: the membership stays, anonymised."""

    __tablename__ = "memberships"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    individual_id: Mapped[UUID | None] = mapped_column(ForeignKey("individuals.id", ondelete="SET NULL"), index=True)
    association_id: Mapped[UUID] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
