"""Associations in memory as bitsets, so that a query and its facets cost microseconds rather than a table scan.

Each association has a slot. Every filter value (country, language, category, status) and every
word of every text field has a Python int whose bit `slot` is set when the association has it. A
query ANDs and ORs those ints, a facet count is a popcount, and a page is read off lists kept in
name, age and latitude order. SQLite stays the durable copy; live_associations.py keeps this in step with it.

Relevance is in tiers (domain.ASSOCIATION_TIERS): every typed word found in the name or an alternate
name first, then every word found in names, city or office-bearers, then the rest; within a tier, by
distance when a point is given, else by name.
"""

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from heapq import nsmallest
from uuid import UUID

from contracts.associations import Location
from contracts.search import AssociationQuery, AssociationResults, Facets, Suggestions, SuggestQuery
from services.search.documents import AssociationDocument
from services.search.domain import ASSOCIATION_TIERS, SUGGESTED_FIELDS
from services.search.geo import Point, bounding_box, closeness_within
from services.search.text import as_prefix, deletions, one_edit_apart, query_words, sort_key, tolerates_typo, words

FIELDS = ASSOCIATION_TIERS[-1]
FACETS = ("country", "language", "category")
# A walk step (one bit test) is this many times cheaper than a sort step per hit.
SORT_OVER_WALK = 4
SET_BITS = [tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256)]


def slots_of(mask: int) -> list[int]:
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    return [position * 8 + bit for position, byte in enumerate(data) if byte for bit in SET_BITS[byte]]


def mask_of(slots: Iterable[int]) -> int:
    mask = 0
    for slot in slots:
        mask |= 1 << slot
    return mask


@dataclass(frozen=True)
class Entry:
    slot: int
    document: AssociationDocument
    by_name: tuple[str, str, int]
    by_newest: tuple[int, str, int]

    @classmethod
    def of(cls, slot: int, document: AssociationDocument) -> "Entry":
        return cls(
            slot=slot,
            document=document,
            by_name=(sort_key(document.name), str(document.id), slot),
            by_newest=(-document.registered_microseconds, str(document.id), slot),
        )


def _values(document: AssociationDocument) -> dict[str, list[str]]:
    return {
        "status": [document.status],
        "country": [document.country],
        "language": document.languages,
        "category": document.categories,
    }


def _field_words(document: AssociationDocument) -> dict[str, set[str]]:
    return {field: {word for text in texts for word in words(text)} for field, texts in document.texts().items()}


class AssociationMemoryIndex:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}
        self.slot_of: dict[UUID, int] = {}
        self.free_slots: list[int] = []
        self.next_slot = 0
        self.everything = 0
        self.public = 0
        self.values: dict[str, dict[str, int]] = {name: {} for name in ("status", "country", "language", "category")}
        self.words: dict[str, dict[str, int]] = {}
        self.sorted_words: list[str] = []
        self.typo_candidates: dict[str, set[str]] = {}
        self.by_name: list[tuple[str, str, int]] = []
        self.by_newest: list[tuple[int, str, int]] = []
        self.by_latitude: list[tuple[float, float, int]] = []
        self.points: dict[int, Point] = {}
        # Public associations with a verification due date, soonest first: those due by now are left out.
        self.due: list[tuple[datetime, int]] = []

    # Keeping it in step ---------------------------------------------------------------------------------------

    def put(self, document: AssociationDocument) -> None:
        self.remove(document.id)
        if self.free_slots:
            slot = self.free_slots.pop()
        else:
            slot, self.next_slot = self.next_slot, self.next_slot + 1
        entry = Entry.of(slot, document)
        bit = 1 << slot
        self.entries[slot] = entry
        self.slot_of[document.id] = slot
        self.everything |= bit
        if document.public:
            self.public |= bit
            if document.verification_due_at is not None:
                insort(self.due, (document.verification_due_at, slot))
        for name, values in _values(document).items():
            for value in values:
                self.values[name][value] = self.values[name].get(value, 0) | bit
        for field, field_words in _field_words(document).items():
            for word in field_words:
                self._add_word(word, field, bit)
        insort(self.by_name, entry.by_name)
        insort(self.by_newest, entry.by_newest)
        if document.location is not None:
            insort(self.by_latitude, (document.location.lat, document.location.lon, slot))
            self.points[slot] = Point.of(document.location.lat, document.location.lon)

    def remove(self, association_id: UUID) -> None:
        slot = self.slot_of.pop(association_id, None)
        if slot is None:
            return
        entry = self.entries.pop(slot)
        document = entry.document
        keep = ~(1 << slot)
        self.everything &= keep
        self.public &= keep
        if document.public and document.verification_due_at is not None:
            self.due.remove((document.verification_due_at, slot))
        for name, values in _values(document).items():
            for value in values:
                self.values[name][value] &= keep
        for field, field_words in _field_words(document).items():
            for word in field_words:
                self._remove_word(word, field, keep)
        self.by_name.remove(entry.by_name)
        self.by_newest.remove(entry.by_newest)
        if document.location is not None:
            self.by_latitude.remove((document.location.lat, document.location.lon, slot))
            del self.points[slot]
        self.free_slots.append(slot)

    def _add_word(self, word: str, field: str, bit: int) -> None:
        fields = self.words.get(word)
        if fields is None:
            fields = self.words[word] = {}
            insort(self.sorted_words, word)
            if tolerates_typo(word):
                for variant in deletions(word) | {word}:
                    self.typo_candidates.setdefault(variant, set()).add(word)
        fields[field] = fields.get(field, 0) | bit

    def _remove_word(self, word: str, field: str, keep: int) -> None:
        fields = self.words[word]
        fields[field] &= keep
        if any(fields.values()):
            return
        del self.words[word]
        self.sorted_words.pop(bisect_left(self.sorted_words, word))
        if tolerates_typo(word):
            for variant in deletions(word) | {word}:
                self.typo_candidates[variant].discard(word)

    # Queries ----------------------------------------------------------------------------------------------------

    def public_at(self, now: datetime) -> int:
        """The public associations whose verification is not due by `now`."""
        lapsed = self.due[: bisect_right(self.due, now, key=lambda due: due[0])]
        return self.public & ~mask_of(slot for _, slot in lapsed)

    def search(self, query: AssociationQuery, *, public_only: bool, now: datetime) -> AssociationResults:
        hits = self.public_at(now) if public_only else self.everything
        for name, values in (
            ("status", query.status),
            ("country", query.country),
            ("language", query.language),
            ("category", query.category),
        ):
            if values:
                hits &= self._any_of(name, values)
        typed = query_words(query.q)
        for word in typed:
            hits &= self._matching(word, FIELDS, typos=True)
        closeness: dict[int, float] = {}
        if query.near is not None and query.radius_km is not None:
            closeness = self._within(query.near, query.radius_km, hits)
            hits = mask_of(closeness)
        page = self._page(query, hits, typed, closeness)
        return AssociationResults(
            total=hits.bit_count(),
            items=[self.entries[slot].document.hit(query.near) for slot in page],
            facets=Facets(**{facet: self._counts(facet, hits) for facet in FACETS}),
        )

    def suggest(self, query: SuggestQuery, *, now: datetime) -> Suggestions:
        hits = self.public_at(now)
        for word in query_words(query.q):
            hits &= self._matching(word, SUGGESTED_FIELDS, typos=False)
        slots = self._in_order(hits, self.by_name, 0, query.size)
        return Suggestions(items=[self.entries[slot].document.suggestion() for slot in slots])

    def _any_of(self, name: str, values: list[str]) -> int:
        mask = 0
        for value in values:
            mask |= self.values[name].get(value, 0)
        return mask

    def _matching(self, word: str, fields: tuple[str, ...], *, typos: bool) -> int:
        """Associations with a word in `fields` that begins with `word` (its first LONGEST_PREFIX letters), or (five
        letters or more) is one edit away."""
        mask = 0
        for term in self._terms(word, typos=typos):
            found = self.words[term]
            for field in fields:
                mask |= found.get(field, 0)
        return mask

    def _terms(self, word: str, *, typos: bool) -> Iterator[str]:
        prefix = as_prefix(word)
        start = bisect_left(self.sorted_words, prefix)
        end = bisect_right(self.sorted_words, prefix + "\U0010ffff", lo=start)
        yield from self.sorted_words[start:end]
        if typos and tolerates_typo(word):
            variants = deletions(word) | {word}
            candidates = {variant for variant in variants if variant in self.words}
            for variant in variants:
                candidates |= self.typo_candidates.get(variant, set())
            yield from (term for term in candidates if not term.startswith(prefix) and one_edit_apart(word, term))

    def _within(self, near: Location, radius_km: float, hits: int) -> dict[int, float]:
        """The closeness (see geo.Point) of every hit within the radius, by slot; the box narrows whom to measure."""
        box = bounding_box(near.lat, near.lon, radius_km)
        start = bisect_left(self.by_latitude, (box.min_lat,))
        end = bisect_right(self.by_latitude, (box.max_lat, 181.0))
        data = hits.to_bytes((hits.bit_length() + 7) // 8, "little")
        centre, farthest = Point.of(near.lat, near.lon), closeness_within(radius_km)
        within = {}
        for _, lon, slot in self.by_latitude[start:end]:
            if slot >> 3 >= len(data) or not data[slot >> 3] >> (slot & 7) & 1:
                continue
            if any(west <= lon <= east for west, east in box.lon_ranges):
                closeness = centre.closeness_to(self.points[slot])
                if closeness <= farthest:
                    within[slot] = closeness
        return within

    def _page(self, query: AssociationQuery, hits: int, typed: list[str], closeness: dict[int, float]) -> list[int]:
        offset = (query.page - 1) * query.size
        if query.sort == "name" or (query.sort == "relevance" and not typed and query.near is None):
            return self._in_order(hits, self.by_name, offset, query.size)
        if query.sort == "newest":
            return self._in_order(hits, self.by_newest, offset, query.size)
        if query.sort == "distance" or not typed:
            return self._nearest(hits, query.near, closeness, offset + query.size)[offset:]
        page: list[int] = []
        remaining = hits
        for fields in ASSOCIATION_TIERS:
            tier = remaining
            for word in typed:
                tier &= self._matching(word, fields, typos=True)
            remaining &= ~tier
            count = tier.bit_count()
            if offset >= count:
                offset -= count
                continue
            wanted = query.size - len(page)
            if query.near is not None:
                page += self._nearest(tier, query.near, closeness, offset + wanted)[offset:]
            else:
                page += self._in_order(tier, self.by_name, offset, wanted)
            offset = 0
            if len(page) == query.size:
                break
        return page

    def _in_order(self, hits: int, order: list[tuple], offset: int, size: int) -> list[int]:
        """Slots of hits `offset` to `offset + size` in the order of `order`, whose last item is the slot.

        Walking the ordered list costs about (offset + size) / density steps; sorting the hits costs
        a few steps per hit: whichever is less is done.
        """
        count = hits.bit_count()
        if not count:
            return []
        if (offset + size) * len(self.entries) > SORT_OVER_WALK * count * count:
            keys = sorted(self._order_key(order, slot) for slot in slots_of(hits))
            return [key[-1] for key in keys[offset : offset + size]]
        data = hits.to_bytes((hits.bit_length() + 7) // 8, "little")
        page: list[int] = []
        for key in order:
            slot = key[-1]
            if slot >> 3 < len(data) and data[slot >> 3] >> (slot & 7) & 1:
                if offset:
                    offset -= 1
                    continue
                page.append(slot)
                if len(page) == size:
                    break
        return page

    def _order_key(self, order: list[tuple], slot: int) -> tuple:
        entry = self.entries[slot]
        return entry.by_name if order is self.by_name else entry.by_newest

    def _nearest(self, hits: int, near: Location, closeness: dict[int, float], count: int) -> list[int]:
        """The `count` nearest, then by name; associations without a place come last."""
        centre = Point.of(near.lat, near.lon)

        def key(slot: int) -> tuple:
            measured = closeness.get(slot)
            if measured is None:
                point = self.points.get(slot)
                if point is None:
                    return (1, 0.0, self.entries[slot].by_name)
                measured = centre.closeness_to(point)
            return (0, measured, self.entries[slot].by_name)

        return nsmallest(count, slots_of(hits), key=key)

    def _counts(self, name: str, hits: int) -> dict[str, int]:
        """Most frequent first, then alphabetical, as Elasticsearch orders its terms aggregation."""
        counts = [(value, (hits & mask).bit_count()) for value, mask in self.values[name].items()]
        return dict(sorted(((value, count) for value, count in counts if count), key=lambda pair: (-pair[1], pair[0])))
