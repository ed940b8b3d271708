"""individuals in generations, so that `diasporahub search reindex` rebuilds them beside the live ones

The rows held so far become generation 1, the live one. SQLite cannot drop the old unique
constraint on `id` in place, so the table is made again; its languages are kept aside meanwhile
(with foreign keys on, dropping the table would otherwise delete them), and its full-text rows,
keyed by the unchanged `key`, stay as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-15
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = "key, id, version, visibility, country, sort_name, document"


def _individuals_table(name: str, *, generations: bool) -> None:
    op.create_table(
        name,
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        *([sa.Column("generation", sa.Integer(), nullable=False)] if generations else []),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("sort_name", sa.String(length=200), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("generation", "id") if generations else sa.UniqueConstraint("id"),
    )


def _remake_individuals(*, generations: bool) -> None:
    op.execute("CREATE TABLE individual_languages_kept AS SELECT key, language FROM individual_languages")
    op.drop_table("individual_languages")
    _individuals_table("individuals_remade", generations=generations)
    if generations:
        op.execute(f"INSERT INTO individuals_remade (generation, {COLUMNS}) SELECT 1, {COLUMNS} FROM individuals")
    else:
        op.execute(f"INSERT INTO individuals_remade ({COLUMNS}) SELECT {COLUMNS} FROM individuals")
    op.drop_table("individuals")
    op.rename_table("individuals_remade", "individuals")
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
    op.execute("INSERT INTO individual_languages (key, language) SELECT key, language FROM individual_languages_kept")
    op.drop_table("individual_languages_kept")


def upgrade() -> None:
    _remake_individuals(generations=True)
    generations = sa.table(
        "index_generations", *(sa.column(name) for name in ("index", "live", "building", "changes", "resets"))
    )
    op.bulk_insert(generations, [{"index": "individuals", "live": 1, "building": None, "changes": 0, "resets": 0}])


def downgrade() -> None:
    """Only the live generation is kept; a rebuild under way is lost."""
    live = "(SELECT live FROM index_generations WHERE \"index\" = 'individuals')"
    op.execute(f"DELETE FROM individual_text WHERE rowid IN (SELECT key FROM individuals WHERE generation != {live})")
    op.execute(
        f"DELETE FROM individual_languages WHERE key IN (SELECT key FROM individuals WHERE generation != {live})"
    )
    op.execute(f"DELETE FROM individuals WHERE generation != {live}")
    op.execute("DELETE FROM index_generations WHERE \"index\" = 'individuals'")
    _remake_individuals(generations=False)
