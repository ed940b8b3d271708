"""Possible duplicates of a chunk of imported rows in a constant number of queries, whatever the chunk's size.

The stored index (associations/name_index.py) is read for all the chunk's keys at once: how many associations hold
each key, then the holders of the keys the look-ups will read. The chunk's own rows are indexed in memory as they
are added, so each row gets the candidates `find_candidates` would find in the stored index had the rows been
added one at a time, the rows before it in the chunk included.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Protocol
from uuid import UUID

from services.registry.associations.duplicates import (
    Candidate,
    candidates_of_split,
    keys_to_read,
    name_keys,
    split_names,
)

SplitNames = list[tuple[str, ...]]
_number = attrgetter("int")
KeysByCountry = dict[str, set[str]]


class StoredIndex(Protocol):
    """The stored duplicate index, read for many keys of many countries at once (the association repository)."""

    def key_sizes_by_country(self, keys: KeysByCountry) -> dict[str, dict[str, int]]:
        """How many associations of each country hold each of its keys (keys nobody holds are left out)."""

    def holders_by_country(
        self, keys: KeysByCountry
    ) -> tuple[dict[str, dict[str, list[UUID]]], dict[UUID, SplitNames]]:
        """The associations of each country holding each of its keys, and their names split into words."""


@dataclass(frozen=True)
class NewAssociation:
    id: UUID
    country: str
    names: tuple[str, ...]


def look_alikes(stored: StoredIndex, new: list[NewAssociation]) -> dict[UUID, list[Candidate]]:
    """Each new association's candidates among the stored ones and those before it in `new`, best first."""
    split = [split_names(association.names) for association in new]
    keys = [name_keys(names) for names in split]
    sizes = stored.key_sizes_by_country(_by_country(zip(new, keys, strict=True)))
    # The look-ups' sizes are known before any holder is read, so the keys they will read are known too.
    planning = _ChunkIndex(sizes, {}, {})
    to_read: KeysByCountry = {}
    for association, its_split, its_keys in zip(new, split, keys, strict=True):
        to_read.setdefault(association.country, set()).update(
            keys_to_read(planning.of(association.country).key_sizes(its_keys))
        )
        planning.add(association, its_split, its_keys)
    holders, names = stored.holders_by_country(to_read)
    index = _ChunkIndex(sizes, holders, names)
    flagged = {}
    for association, its_split, its_keys in zip(new, split, keys, strict=True):
        flagged[association.id] = candidates_of_split(index.of(association.country), its_split, its_keys)
        index.add(association, its_split, its_keys)
    return flagged


def _by_country(keyed: Iterable[tuple[NewAssociation, set[str]]]) -> KeysByCountry:
    by_country: KeysByCountry = {}
    for association, keys in keyed:
        by_country.setdefault(association.country, set()).update(keys)
    return by_country


class _ChunkIndex:
    """What the stored index holds for the chunk's keys, plus the chunk's rows added so far."""

    def __init__(
        self,
        stored_sizes: dict[str, dict[str, int]],
        stored_holders: dict[str, dict[str, list[UUID]]],
        names: dict[UUID, SplitNames],
    ):
        self.stored_sizes = stored_sizes
        self.stored_holders = stored_holders
        self.names = dict(names)
        self.added: dict[str, dict[str, list[UUID]]] = {}

    def add(self, association: NewAssociation, split: SplitNames, keys: set[str]) -> None:
        self.names[association.id] = split
        added = self.added.setdefault(association.country, {})
        for key in keys:
            added.setdefault(key, []).append(association.id)

    def of(self, country: str) -> "_CountryIndex":
        return _CountryIndex(self, country)


class _CountryIndex:
    """duplicates.NameIndex for one country of a _ChunkIndex."""

    def __init__(self, chunk: _ChunkIndex, country: str):
        self.names = chunk.names
        self.stored_sizes = chunk.stored_sizes.get(country, {})
        self.stored_holders = chunk.stored_holders.get(country, {})
        self.added = chunk.added.get(country, {})

    def key_sizes(self, keys: set[str], *, up_to: int | None = None) -> dict[str, int]:
        # In key order, as the stored index's GROUP BY gives them: keys_to_read breaks ties of size by this order.
        sizes = {key: self.stored_sizes.get(key, 0) + len(self.added.get(key, ())) for key in sorted(keys)}
        return {key: size if up_to is None else min(size, up_to) for key, size in sizes.items() if size}

    def names_holding(self, keys: list[str]) -> dict[UUID, SplitNames]:
        holding: set[UUID] = set()
        for key in keys:
            if key in self.stored_sizes:  # planned: a key the stored index holds was read
                holding.update(self.stored_holders[key])
            holding.update(self.added.get(key, ()))
        # In id order, as the stored index reads them: the prefilter keeps the first of equal scores. (A UUID's
        # order is its number's; sorting by the number spares a Python __lt__ per comparison.)
        return {association_id: self.names[association_id] for association_id in sorted(holding, key=_number)}
