"""recent posts index: an account's recent posts (or broadcasts) are counted from the index alone, without reading
each message for its kind

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_sender_account_id_posted_at")
        batch.create_index("ix_messages_sender_account_id_kind_posted_at", ["sender_account_id", "kind", "posted_at"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_sender_account_id_kind_posted_at")
        batch.create_index("ix_messages_sender_account_id_posted_at", ["sender_account_id", "posted_at"])
