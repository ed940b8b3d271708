"""the duplicate finder's index in tables: each open association's names split into words, and their keys by
country, so that a registration looks candidates up instead of reading the whole country

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from services.registry.associations.name_index import insert_names

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_names",
        sa.Column("association_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_duplicate_names_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "position", name=op.f("pk_duplicate_names")),
    )
    op.create_table(
        "duplicate_keys",
        sa.Column("association_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_duplicate_keys_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("association_id", "key", name=op.f("pk_duplicate_keys")),
    )
    op.create_index("ix_duplicate_keys_country_key", "duplicate_keys", ["country", "key"])
    _fill()


def _fill() -> None:
    """The associations already registered, as the finder's rules of this revision index them."""
    associations = sa.table(
        "associations",
        sa.column("id", sa.Uuid()),
        sa.column("country", sa.String()),
        sa.column("status", sa.String()),
        sa.column("merged_into", sa.Uuid()),
        sa.column("document", sa.JSON()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(associations.c.id, associations.c.country, associations.c.document).where(
            associations.c.merged_into.is_(None), associations.c.status != "dissolved"
        )
    )
    for association_id, country, document in rows:
        # Documents written by migration 0002 from 0001 rows have no alternate_names.
        insert_names(connection, association_id, country, (document["name"], *document.get("alternate_names", ())))


def downgrade() -> None:
    op.drop_index("ix_duplicate_keys_country_key", table_name="duplicate_keys")
    op.drop_table("duplicate_keys")
    op.drop_table("duplicate_names")
