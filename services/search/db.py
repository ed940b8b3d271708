"""Tables of the embedded engine. The full-text tables (FTS5) are made by the migrations.

Associations live in generations: queries read the live one, and `reindex` fills the next
beside it before switching, so search never goes empty while the index is rebuilt.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.inbox import add_inbox_table
from servicekit.sqltypes import UTCDateTime

ASSOCIATION_TEXT = "association_text"
INDIVIDUAL_TEXT = "individual_text"
FULL_TEXT_TABLES = (ASSOCIATION_TEXT, INDIVIDUAL_TEXT)


class Base(DeclarativeBase):
    metadata = MetaData()


add_inbox_table(Base.metadata)


class Generations(Base):
    """Which generation of an index queries read, and which one a reindex is filling, if any."""

    __tablename__ = "index_generations"

    index: Mapped[str] = mapped_column(String(50), primary_key=True)
    live: Mapped[int] = mapped_column(Integer)
    building: Mapped[int | None] = mapped_column(Integer)


class AssociationRow(Base):
    """`key` is also the row id in the full-text table; `document` is the AssociationDocument as JSON."""

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("generation", "id"),
        Index("ix_associations_generation_country", "generation", "country"),
        Index("ix_associations_generation_sort_name", "generation", "sort_name"),
        Index("ix_associations_generation_lat", "generation", "lat"),
    )

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation: Mapped[int] = mapped_column(Integer)
    id: Mapped[UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    sort_name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict] = mapped_column(JSON)


class AssociationLanguage(Base):
    __tablename__ = "association_languages"
    __table_args__ = (Index("ix_association_languages_language", "language", "key"),)

    key: Mapped[int] = mapped_column(ForeignKey("associations.key", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(3), primary_key=True)


class AssociationCategory(Base):
    __tablename__ = "association_categories"
    __table_args__ = (Index("ix_association_categories_category", "category", "key"),)

    key: Mapped[int] = mapped_column(ForeignKey("associations.key", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)


class IndividualRow(Base):
    """A removed individual keeps only id and version, so an older event cannot bring them back."""

    __tablename__ = "individuals"
    __table_args__ = (Index("ix_individuals_visibility_country", "visibility", "country"),)

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[UUID] = mapped_column(Uuid, unique=True)
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
    """Each indexed word under itself and under each of its one-letter deletions, for typo tolerance."""

    __tablename__ = "vocabulary"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


def is_full_text_object(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the FTS5 tables and their shadow tables are outside the models."""
    return not (type_ == "table" and name.startswith(FULL_TEXT_TABLES))
