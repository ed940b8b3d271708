"""The duplicate finder's index in the registry's tables: written in the same transaction as the association, so
every registry process (and replica) looks candidates up in the same, current index instead of rebuilding it."""

from collections.abc import Iterable, Iterator
from functools import lru_cache
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
)
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
    """duplicates.NameIndex over the tables, for one country. Core statements on the session's connection: the
    ORM's handling of these rows cost a registration more than the database's work."""

    def __init__(self, session: Session, country: str):
        self.session = session
        self.country = country

    def key_sizes(self, keys: set[str], *, up_to: int | None = None) -> dict[str, int]:
        if not keys:
            return {}
        if up_to is None:
            statement = (
                select(KEYS.c.key, func.count())
                .where(KEYS.c.country == self.country, KEYS.c.key.in_(keys))
                .group_by(KEYS.c.key)
            )
            return dict(self.session.connection().execute(statement).all())
        ordered = sorted(keys)
        parameters = {"country": self.country, "up_to": up_to} | {f"key_{n}": key for n, key in enumerate(ordered)}
        rows = self.session.connection().execute(_capped_key_sizes(len(ordered)), parameters)
        return {ordered[n]: count for n, count in rows if count}

    def names_holding(self, keys: list[str]) -> dict[UUID, list[tuple[str, ...]]]:
        found: dict[UUID, list[tuple[str, ...]]] = {}
        if not keys:
            return found
        rows = self.session.connection().execute(_names_holding(), {"country": self.country, "keys": keys})
        for association_id, name_words in rows:
            found.setdefault(association_id, []).append(tuple(name_words.split()))
        return found


@lru_cache(maxsize=64)
def _capped_key_sizes(key_count: int) -> CompoundSelect:
    """For `key_count` keys (`key_0`, `key_1`…) in `country`: (n, how many hold `key_n`), counted up to `up_to`
    (each key's holders are read from the index on country and key only that far). Built once for each number of
    keys, so that a look-up pays neither building nor compiling it."""
    return union_all(
        *(
            select(literal_column(str(n)), func.count()).select_from(
                select(KEYS.c.association_id)
                .where(KEYS.c.country == bindparam("country"), KEYS.c.key == bindparam(f"key_{n}"))
                .limit(bindparam("up_to", type_=Integer))
                .subquery()
            )
            for n in range(key_count)
        )
    )


@lru_cache(maxsize=1)
def _names_holding() -> Select:
    """The names of the associations holding any of `keys` in `country`, each association's in order."""
    holding = select(KEYS.c.association_id).where(
        KEYS.c.country == bindparam("country"), KEYS.c.key.in_(bindparam("keys", expanding=True))
    )
    return (
        select(NAMES.c.association_id, NAMES.c.words)
        .where(NAMES.c.association_id.in_(holding.scalar_subquery()))
        .order_by(NAMES.c.association_id, NAMES.c.position)
    )


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
