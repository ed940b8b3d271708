"""idempotency keys, report decisions, digest hour and time zone, members' settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from servicekit.sqltypes import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "member_settings",
        sa.Column("individual_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_mode", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("digest_hour", sa.Integer(), server_default="7", nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("unsubscribe_key", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("individual_id", name=op.f("pk_member_settings")),
        sa.UniqueConstraint("account_id", name=op.f("uq_member_settings_account_id")),
        sa.UniqueConstraint("unsubscribe_key", name=op.f("uq_member_settings_unsubscribe_key")),
    )
    with op.batch_alter_table("message_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), server_default="open", nullable=False))
        batch_op.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_message_reports_reporter_account_id"), ["reporter_account_id"])
    with op.batch_alter_table("notification_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_hour", sa.Integer(), server_default="7", nullable=False))
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_settings", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
        batch_op.drop_column("digest_hour")
    with op.batch_alter_table("message_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_reports_reporter_account_id"))
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("status")
    op.drop_table("member_settings")
    op.drop_table("idempotency_keys")
