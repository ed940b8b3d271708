"""Registry tables and the association repository (SQLAlchemy 2)."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contracts.associations import AssociationV1
from servicekit.outbox import add_outbox_table
from servicekit.sqltypes import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


add_outbox_table(Base.metadata)


class AssociationRecord(Base):
    __tablename__ = "associations"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON)
    email: Mapped[str] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssociationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, association: AssociationV1) -> None:
        self.session.add(AssociationRecord(**association.model_dump()))

    def get(self, association_id: UUID) -> AssociationV1 | None:
        record = self.session.get(AssociationRecord, association_id)
        return None if record is None else AssociationV1.model_validate(record, from_attributes=True)
