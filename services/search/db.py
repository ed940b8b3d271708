"""Tables of the embedded engine. The full-text table (FTS5) is made by the migration."""

from uuid import UUID

from sqlalchemy import JSON, Integer, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.inbox import add_inbox_table

FULL_TEXT_TABLE = "association_text"


class Base(DeclarativeBase):
    metadata = MetaData()


add_inbox_table(Base.metadata)


class AssociationDocument(Base):
    """One searchable association; `key` is also its row id in the full-text table."""

    __tablename__ = "association_documents"

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))


def is_full_text_object(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the FTS5 table and its shadow tables are outside the models."""
    return not (type_ == "table" and name.startswith(FULL_TEXT_TABLE))
