"""deliveries planned by the sender: a conversation's message is committed with its inbox copies only, and the
delivery sender plans its e-mails and webhooks later (`deliveries_planned` false until then)

Every message written before this was planned when it was posted.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("deliveries_planned", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.create_index(batch.f("ix_messages_deliveries_planned"), ["deliveries_planned"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index(batch.f("ix_messages_deliveries_planned"))
        batch.drop_column("deliveries_planned")
