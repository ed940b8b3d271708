"""The duplicate finder's index in the registry's tables: written in the same transaction as the association, so
every registry process (and replica) looks candidates up in the same, current index instead of rebuilding it."""

from uuid import UUID

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from contracts.associations import AssociationV1
from services.registry.associations.duplicates import name_keys, split_names
from services.registry.db import DuplicateKeyRecord, DuplicateNameRecord


def is_open(association: AssociationV1) -> bool:
    """Merged and dissolved associations are nobody's duplicate."""
    return association.merged_into is None and association.status != "dissolved"


def index_names(session: Session, association: AssociationV1) -> None:
    """Put the association's current names in the index (or take them out, once it is merged or dissolved).
    Its row must be flushed first."""
    session.execute(delete(DuplicateKeyRecord).where(DuplicateKeyRecord.association_id == association.id))
    session.execute(delete(DuplicateNameRecord).where(DuplicateNameRecord.association_id == association.id))
    if is_open(association):
        insert_names(session, association.id, association.country, association_names(association))


def association_names(association: AssociationV1) -> tuple[str, ...]:
    return (association.name, *association.alternate_names)


def insert_names(session: Session | Connection, association_id: UUID, country: str, names: tuple[str, ...]) -> None:
    split = split_names(names)
    session.execute(
        insert(DuplicateNameRecord),
        [
            {"association_id": association_id, "position": position, "words": " ".join(name)}
            for position, name in enumerate(split)
        ],
    )
    keys = name_keys(split)
    if keys:
        session.execute(
            insert(DuplicateKeyRecord),
            [{"association_id": association_id, "key": key, "country": country} for key in keys],
        )


class StoredNameIndex:
    """duplicates.NameIndex over the tables, for one country."""

    def __init__(self, session: Session, country: str):
        self.session = session
        self.country = country

    def key_sizes(self, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        rows = self.session.execute(
            select(DuplicateKeyRecord.key, func.count())
            .where(DuplicateKeyRecord.country == self.country, DuplicateKeyRecord.key.in_(keys))
            .group_by(DuplicateKeyRecord.key)
        )
        return {key: count for key, count in rows}

    def names_holding(self, keys: list[str]) -> dict[UUID, list[tuple[str, ...]]]:
        found: dict[UUID, list[tuple[str, ...]]] = {}
        if not keys:
            return found
        holding = (
            select(DuplicateKeyRecord.association_id)
            .where(DuplicateKeyRecord.country == self.country, DuplicateKeyRecord.key.in_(keys))
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(DuplicateNameRecord.association_id, DuplicateNameRecord.words)
            .where(DuplicateNameRecord.association_id.in_(holding))
            .order_by(DuplicateNameRecord.association_id, DuplicateNameRecord.position)
        )
        for association_id, name_words in rows:
            found.setdefault(association_id, []).append(tuple(name_words.split()))
        return found
