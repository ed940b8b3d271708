"""answered requests: the RPC writes carried out, so that a request delivered again is not carried out twice

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from servicekit.sqltypes import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answered_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_answered_requests")),
    )
    op.create_index(op.f("ix_answered_requests_recorded_at"), "answered_requests", ["recorded_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_answered_requests_recorded_at"), table_name="answered_requests")
    op.drop_table("answered_requests")
