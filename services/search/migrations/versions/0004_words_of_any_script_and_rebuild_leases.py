"""individuals' full text split as search splits words, in any script; rebuilds hold a lease

The full-text table now holds the words of services.search.text (letters, digits and marks, so
that a Devanagari or Burmese word stays whole) separated by spaces, under FTS5's `ascii`
tokenizer, which splits at spaces only, as Elasticsearch's `whitespace` analyzer does. It is
made again and filled from the stored documents, with their sort names and typo vocabulary.
`index_generations.rebuild_active_at` tells when the rebuild under way last wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2027-03-01
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from contracts.text import fold
from services.search.embedded.vocabulary import Vocabulary
from services.search.text import sort_key, words

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WORDS_OPTIONS = "tokenize = 'ascii', prefix = '2 3'"
FOLDED_TEXT_OPTIONS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"


def _fill_full_text(options: str, split, sort) -> None:
    """The table made again with `options`, holding `split(text)` of each stored individual's name and city;
    their sort names are `sort(name)`."""
    connection = op.get_bind()
    op.execute("DROP TABLE individual_text")
    op.execute(f"CREATE VIRTUAL TABLE individual_text USING fts5(name, city, {options})")
    rows = connection.execute(sa.text("SELECT key, document FROM individuals WHERE document IS NOT NULL")).all()
    documents = [(key, json.loads(document) if isinstance(document, str) else document) for key, document in rows]
    if not documents:
        return
    connection.execute(
        sa.text("INSERT INTO individual_text (rowid, name, city) VALUES (:key, :name, :city)"),
        [{"key": key, "name": split(document["name"]), "city": split(document["city"])} for key, document in documents],
    )
    connection.execute(
        sa.text("UPDATE individuals SET sort_name = :sort_name WHERE key = :key"),
        [{"key": key, "sort_name": sort(document["name"])} for key, document in documents],
    )
    Vocabulary(Session(bind=connection)).learn(
        text for _, document in documents for text in (document["name"], document["city"])
    )


def upgrade() -> None:
    op.add_column("index_generations", sa.Column("rebuild_active_at", sa.DateTime(timezone=True), nullable=True))
    _fill_full_text(WORDS_OPTIONS, lambda text: " ".join(words(text)), sort_key)


def downgrade() -> None:
    _fill_full_text(FOLDED_TEXT_OPTIONS, fold, fold)
    with op.batch_alter_table("index_generations") as batch:
        batch.drop_column("rebuild_active_at")
