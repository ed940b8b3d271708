"""sessions end after a time without use: when each was last used, and how long it may stay unused

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
    # Sessions opened before this revision have neither: they end only when they expire, as they did.
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(sa.Column("last_seen_at", UTCDateTime(), nullable=True))
        sessions.add_column(sa.Column("idle_timeout_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.drop_column("idle_timeout_seconds")
        sessions.drop_column("last_seen_at")
