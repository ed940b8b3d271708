"""Tables of the embedded engine. The full-text table of individuals (FTS5) is made by the migrations.

Associations are searched in memory (services/search/embedded/memory_index.py); here is their durable copy,
in generations: queries read the live one, and `reindex` fills the next beside it before switching,
so search never goes empty while the index is rebuilt.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.inbox import add_inbox_table

INDIVIDUAL_TEXT = "individual_text"


class Base(DeclarativeBase):
    metadata = MetaData()


add_inbox_table(Base.metadata)


class Generations(Base):
    """Which generation of an index queries read, which one a reindex is filling, and how often it changed.

    `changes` counts writes to the live generation and `resets` removals, so that a process
    holding the index in memory sees cheaply whether, and how much, it must catch up.
    `rebuild_active_at` is when the rebuild under way last wrote (see domain.REBUILD_LEASE).
    """

    __tablename__ = "index_generations"

    index: Mapped[str] = mapped_column(String(50), primary_key=True)
    live: Mapped[int] = mapped_column(Integer)
    building: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer)
    resets: Mapped[int] = mapped_column(Integer)
    rebuild_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssociationRow(Base):
    """`document` is the AssociationDocument as JSON; `change` is the `changes` count of its last write."""

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("generation", "id"),
        Index("ix_associations_generation_change", "generation", "change"),
    )

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation: Mapped[int] = mapped_column(Integer)
    id: Mapped[UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict] = mapped_column(JSON)


class IndividualRow(Base):
    """A removed individual keeps only id and version, so an older event cannot bring them back.

    In generations, as associations are: queries read the live one, and `reindex` fills the next beside it.
    """

    __tablename__ = "individuals"
    __table_args__ = (
        UniqueConstraint("generation", "id"),
        Index("ix_individuals_visibility_country", "visibility", "country"),
    )

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation: Mapped[int] = mapped_column(Integer)
    id: Mapped[UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    sort_name: Mapped[str | None] = mapped_column(String(200))
    document: Mapped[dict | None] = mapped_column(JSON)


class IndividualLanguage(Base):
    __tablename__ = "individual_languages"
    __table_args__ = (Index("ix_individual_languages_language", "language", "key"),)

    key: Mapped[int] = mapped_column(ForeignKey("individuals.key", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(3), primary_key=True)


class VocabularyEntry(Base):
    """Each indexed word of individuals under itself and under each of its one-letter deletions, for typos."""

    __tablename__ = "vocabulary"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


def is_full_text_object(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the FTS5 table and its shadow tables are outside the models."""
    return not (type_ == "table" and name.startswith(INDIVIDUAL_TEXT))
