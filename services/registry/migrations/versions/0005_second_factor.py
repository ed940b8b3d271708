"""Cell staff's second factor: a TOTP secret per account, one-time recovery codes, enrolment-only sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from servicekit.sqltypes import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as accounts:
        accounts.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        accounts.add_column(sa.Column("totp_confirmed_at", UTCDateTime(), nullable=True))
        accounts.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(
            sa.Column("must_enrol_second_factor", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_recovery_codes_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_account_id"), "recovery_codes", ["account_id"])
    # Cell staff signed in with a password alone until now: those sessions end, and they enrol at their next login.
    accounts = sa.table("accounts", sa.column("id", sa.Uuid()), sa.column("is_cell_staff", sa.Boolean()))
    sessions = sa.table("sessions", sa.column("account_id", sa.Uuid()), sa.column("revoked_at", UTCDateTime()))
    op.execute(
        sessions.update()
        .where(
            sessions.c.revoked_at.is_(None),
            sessions.c.account_id.in_(sa.select(accounts.c.id).where(accounts.c.is_cell_staff.is_(True))),
        )
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_account_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("sessions") as sessions:
        sessions.drop_column("must_enrol_second_factor")
    with op.batch_alter_table("accounts") as accounts:
        accounts.drop_column("totp_last_step")
        accounts.drop_column("totp_confirmed_at")
        accounts.drop_column("totp_secret")
