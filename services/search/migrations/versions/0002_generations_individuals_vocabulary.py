"""associations in generations; individuals with full text; typo vocabulary

The first cut's association index is dropped: after this upgrade, `diasporahub search reindex`
fills the new one from the registry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Folded in Python before storing; the tokenizer folds again for safety. Prefix indexes make
# searching by the first two or three letters fast.
FULL_TEXT_OPTIONS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"


def upgrade() -> None:
    op.execute("DROP TABLE association_text")
    op.drop_index("ix_association_documents_sort_name", table_name="association_documents")
    op.drop_index("ix_association_documents_country", table_name="association_documents")
    op.drop_table("association_documents")

    generations = op.create_table(
        "index_generations",
        sa.Column("index", sa.String(length=50), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("resets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("index"),
    )
    op.bulk_insert(generations, [{"index": "associations", "live": 1, "building": None, "changes": 0, "resets": 0}])
    op.create_table(
        "associations",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("generation", "id"),
    )
    op.create_index("ix_associations_generation_change", "associations", ["generation", "change"])

    op.create_table(
        "individuals",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("sort_name", sa.String(length=200), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_individuals_country", "individuals", ["country"])
    op.create_index("ix_individuals_visibility_country", "individuals", ["visibility", "country"])
    op.create_table(
        "individual_languages",
        sa.Column("key", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(["key"], ["individuals.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "language"),
    )
    op.create_index("ix_individual_languages_language", "individual_languages", ["language", "key"])
    op.execute(f"CREATE VIRTUAL TABLE individual_text USING fts5(name, city, {FULL_TEXT_OPTIONS})")

    op.create_table(
        "vocabulary",
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("variant", "term"),
    )


def downgrade() -> None:
    op.drop_table("vocabulary")
    op.execute("DROP TABLE individual_text")
    op.drop_table("individual_languages")
    op.drop_table("individuals")
    op.drop_table("associations")
    op.drop_table("index_generations")
    op.create_table(
        "association_documents",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_association_documents_country", "association_documents", ["country"])
    op.create_index("ix_association_documents_sort_name", "association_documents", ["sort_name"])
    op.execute(
        "CREATE VIRTUAL TABLE association_text USING fts5("
        "name, city, description, tokenize = 'unicode61 remove_diacritics 2')"
    )
