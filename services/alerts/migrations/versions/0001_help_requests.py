"""help requests

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from servicekit.sqltypes import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_events",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_handled_events")),
    )
    op.create_table(
        "help_request_notifications",
        sa.Column("help_request_id", sa.Uuid(), nullable=False),
        sa.Column("association_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ring", sa.String(length=20), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("notified_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("declined_at", UTCDateTime(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("help_request_id", "association_id", name=op.f("pk_help_request_notifications")),
    )
    with op.batch_alter_table("help_request_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_help_request_notifications_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "help_request_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("help_request_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("note_sealed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request_timeline")),
    )
    with op.batch_alter_table("help_request_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_request_timeline_help_request_id"), ["help_request_id"], unique=False)

    op.create_table(
        "help_request_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("help_request_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_account_id", sa.Uuid(), nullable=True),
        sa.Column("viewer", sa.String(length=60), nullable=False),
        sa.Column("viewed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request_views")),
    )
    with op.batch_alter_table("help_request_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_request_views_help_request_id"), ["help_request_id"], unique=False)

    op.create_table(
        "help_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("approximate_lat", sa.Float(), nullable=True),
        sa.Column("approximate_lon", sa.Float(), nullable=True),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("description_sealed", sa.Text(), nullable=True),
        sa.Column("location_sealed", sa.Text(), nullable=True),
        sa.Column("contact_sealed", sa.Text(), nullable=True),
        sa.Column("requester_account_id", sa.Uuid(), nullable=True),
        sa.Column("requester_address_hash", sa.String(length=64), nullable=True),
        sa.Column("follow_key_hash", sa.String(length=64), nullable=True),
        sa.Column("on_behalf_of_someone_else", sa.Boolean(), nullable=False),
        sa.Column("held_for_cell", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(length=60), nullable=True),
        sa.Column("ring", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_help_requests_reference")),
    )
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_requests_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_help_requests_requester_account_id"), ["requester_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_help_requests_requester_address_hash"), ["requester_address_hash"], unique=False
        )
        batch_op.create_index("ix_help_requests_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("exchange", sa.String(length=200), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_messages_event_id")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_sent_at_id", ["sent_at", "id"], unique=False)

    op.create_table(
        "reference_numbers",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_reference_numbers")),
    )
    op.create_table(
        "requester_blocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("help_request_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blocked_by", sa.Uuid(), nullable=False),
        sa.Column("blocked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requester_blocks")),
    )
    with op.batch_alter_table("requester_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requester_blocks_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_requester_blocks_address_hash"), ["address_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("requester_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requester_blocks_address_hash"))
        batch_op.drop_index(batch_op.f("ix_requester_blocks_account_id"))

    op.drop_table("requester_blocks")
    op.drop_table("reference_numbers")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_sent_at_id")

    op.drop_table("outbox_messages")
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_help_requests_status_due_at")
        batch_op.drop_index(batch_op.f("ix_help_requests_requester_address_hash"))
        batch_op.drop_index(batch_op.f("ix_help_requests_requester_account_id"))
        batch_op.drop_index(batch_op.f("ix_help_requests_created_at"))

    op.drop_table("help_requests")
    with op.batch_alter_table("help_request_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_request_views_help_request_id"))

    op.drop_table("help_request_views")
    with op.batch_alter_table("help_request_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_request_timeline_help_request_id"))

    op.drop_table("help_request_timeline")
    with op.batch_alter_table("help_request_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_request_notifications_association_id"))

    op.drop_table("help_request_notifications")
    op.drop_table("handled_events")
