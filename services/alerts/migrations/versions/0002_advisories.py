"""advisories, safety checks, and the people who receive advisories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from servicekit.sqltypes import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
    )
    op.create_index(op.f("ix_advisories_published_at"), "advisories", ["published_at"], unique=False)
    op.create_index(op.f("ix_advisories_expires_at"), "advisories", ["expires_at"], unique=False)
    op.create_table(
        "advisory_recipients",
        sa.Column("advisory_id", sa.Uuid(), nullable=False),
        sa.Column("party", sa.String(length=60), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("advisory_id", "party", name=op.f("pk_advisory_recipients")),
    )
    op.create_table(
        "safety_answers",
        sa.Column("advisory_id", sa.Uuid(), nullable=False),
        sa.Column("party", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("answered_by", sa.Uuid(), nullable=False),
        sa.Column("for_association", sa.Uuid(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("help_request_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("advisory_id", "party", name=op.f("pk_safety_answers")),
    )
    op.create_table(
        "advisory_people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("association_ids", sa.JSON(), nullable=False),
        sa.Column("receives_advisories", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_people")),
    )
    op.create_index(op.f("ix_advisory_people_country"), "advisory_people", ["country"], unique=False)
    op.create_index(
        op.f("ix_advisory_people_receives_advisories"), "advisory_people", ["receives_advisories"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_advisory_people_receives_advisories"), table_name="advisory_people")
    op.drop_index(op.f("ix_advisory_people_country"), table_name="advisory_people")
    op.drop_table("advisory_people")
    op.drop_table("safety_answers")
    op.drop_table("advisory_recipients")
    op.drop_index(op.f("ix_advisories_expires_at"), table_name="advisories")
    op.drop_index(op.f("ix_advisories_published_at"), table_name="advisories")
    op.drop_table("advisories")
