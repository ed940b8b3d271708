"""moderation versions: reports and sending blocks count their changes, which their events carry

A sending block is kept when lifted (`blocked` false), so that its version goes on counting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_reports") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("sending_blocks") as batch:
        batch.add_column(sa.Column("blocked", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM sending_blocks WHERE NOT blocked"))
    with op.batch_alter_table("sending_blocks") as batch:
        batch.drop_column("version")
        batch.drop_column("blocked")
    with op.batch_alter_table("message_reports") as batch:
        batch.drop_column("version")
