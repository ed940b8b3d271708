"""The duplicate finder's index in the registry's tables: written in the same transaction as the association, so
every registry process (and replica) looks candidates up in the same, current index instead of rebuilding it."""

from collections.abc import Iterable, Iterator
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from contracts.associations import AssociationV1
from services.registry.associations.duplicates import name_keys, split_names
from services.registry.db import DuplicateKeyRecord, DuplicateNameRecord

# Keys (or ids) per statement when many countries' keys are read at once: far below SQLite's smallest limit of
# bound parameters (32,766), and one statement for an import chunk of 500 rows (about 4,000 keys).
KEYS_PER_STATEMENT = 10_000
# Core tables, not the ORM classes: the ORM's loading of rows cost more than the database's work.
KEYS = DuplicateKeyRecord.__table__
NAMES = DuplicateNameRecord.__table__


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
    insert_names_of_many(session, [(association_id, country, names)])


def insert_names_of_many(
    session: Session | Connection, associations: Iterable[tuple[UUID, str, tuple[str, ...]]]
) -> None:
    """The names of many associations (id, country, names): one insert of names and one of keys."""
    name_rows, key_rows = [], []
    for association_id, country, names in associations:
        split = split_names(names)
        name_rows.extend(
            {"association_id": association_id, "position": position, "words": " ".join(name)}
            for position, name in enumerate(split)
        )
        key_rows.extend({"association_id": association_id, "key": key, "country": country} for key in name_keys(split))
    if name_rows:
        session.execute(insert(NAMES), name_rows)
    if key_rows:
        session.execute(insert(KEYS), key_rows)


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


def key_sizes_by_country(session: Session, keys: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    """imports.look_alikes.StoredIndex's first read: how many hold each key, for many countries at once."""
    sizes: dict[str, dict[str, int]] = {}
    for holding_any in _holding_any(keys):
        rows = session.execute(
            select(KEYS.c.country, KEYS.c.key, func.count()).where(holding_any).group_by(KEYS.c.country, KEYS.c.key)
        )
        for country, key, count in rows:
            sizes.setdefault(country, {})[key] = count
    return sizes


def holders_by_country(
    session: Session, keys: dict[str, set[str]]
) -> tuple[dict[str, dict[str, list[UUID]]], dict[UUID, list[tuple[str, ...]]]]:
    """imports.look_alikes.StoredIndex's second read: the holders of each key, then their names, for many
    countries at once (two queries: a join would read a holder's names once for each key it holds)."""
    holders: dict[str, dict[str, list[UUID]]] = {}
    for holding_any in _holding_any(keys):
        for country, key, association_id in session.execute(
            select(KEYS.c.country, KEYS.c.key, KEYS.c.association_id).where(holding_any)
        ):
            holders.setdefault(country, {}).setdefault(key, []).append(association_id)
    held = list({holder for by_key in holders.values() for held in by_key.values() for holder in held})
    names: dict[UUID, list[tuple[str, ...]]] = {}
    for start in range(0, len(held), KEYS_PER_STATEMENT):
        rows = session.execute(
            select(NAMES.c.association_id, NAMES.c.words)
            .where(NAMES.c.association_id.in_(held[start : start + KEYS_PER_STATEMENT]))
            .order_by(NAMES.c.association_id, NAMES.c.position)
        )
        for association_id, name_words in rows:
            names.setdefault(association_id, []).append(tuple(name_words.split()))
    return holders, names


def _holding_any(keys: dict[str, set[str]]) -> Iterator[ColumnElement[bool]]:
    """Conditions on duplicate_keys, each for at most KEYS_PER_STATEMENT of these countries' keys."""
    pairs = sorted((country, key) for country, its_keys in keys.items() for key in its_keys)
    for start in range(0, len(pairs), KEYS_PER_STATEMENT):
        batch: dict[str, list[str]] = {}
        for country, key in pairs[start : start + KEYS_PER_STATEMENT]:
            batch.setdefault(country, []).append(key)
        yield or_(*(and_(KEYS.c.country == country, KEYS.c.key.in_(its_keys)) for country, its_keys in batch.items()))
