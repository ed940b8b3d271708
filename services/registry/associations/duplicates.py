"""Possible duplicates: names compared with case and diacritics folded, common words weighed down,
acronyms matched to full names ("MWA Dubai" ~ "Mizo Welfare Association Dubai")."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Protocol
from uuid import UUID

from rapidfuzz import fuzz, process

from contracts.text import words

COMMON_WORDS = frozenset(
    {
        "mizo",
        "mizos",
        "association",
        "associations",
        "welfare",
        "fellowship",
        "society",
        "union",
        "students",
        "student",
        "youth",
        "women",
        "church",
        "community",
        "federation",
        "group",
        "club",
        "council",
        "organisation",
        "organization",
        "the",
        "of",
        "and",
        "in",
        "at",
        "for",
        "a",
        "an",
        "kristian",
        "christian",
        "zofate",
        "mi",
    }
)
COMMON_WORD_WEIGHT = 0.4
THRESHOLD = 70
TYPO_SIMILARITY = 80
PREFILTER_ABOVE = 8
BROAD_KEY = 25


@dataclass(frozen=True)
class NamedAssociation:
    id: UUID
    names: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    id: UUID
    score: int


@lru_cache(maxsize=100_000)
def _is_common(word: str) -> bool:
    """A common word, or a misspelling of a long one ("assocation")."""
    return word in COMMON_WORDS or (
        # One call into rapidfuzz's C for all the common words: a name's new words each missed the cache, and
        # comparing them one by one in Python cost a tenth of a registration.
        len(word) >= 6
        and process.extractOne(word, COMMON_WORDS, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY) is not None
    )


def _weight(word: str) -> float:
    return COMMON_WORD_WEIGHT if _is_common(word) else 1.0


@lru_cache(maxsize=100_000)
def _acronym(name_words: tuple[str, ...]) -> str:
    return "".join(word[0] for word in name_words if word not in {"the", "of", "and", "in", "at", "for", "a", "an"})


def _expand_acronyms(name_words: tuple[str, ...], other_words: tuple[str, ...]) -> tuple[str, ...]:
    """Replace a word that is the other name's acronym (or its acronym's prefix) by the words it stands for."""
    acronym = _acronym(other_words)
    expanded = []
    for word in name_words:
        if len(word) >= 2 and not _is_common(word) and acronym.startswith(word) and word != other_words[0]:
            expanded.extend(other_words[: len(word)])
        else:
            expanded.append(word)
    return tuple(expanded)


def _matched_weight(name_words: tuple[str, ...], other_words: tuple[str, ...]) -> float:
    """The weight of the words that also stand, perhaps with a typo, in the other name."""
    exact = set(other_words)
    return sum(
        _weight(word)
        for word in name_words
        if word in exact or process.extractOne(word, other_words, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY)
    )


def name_similarity(first: str, second: str) -> int:
    """0 to 100: how likely two names mean the same association."""
    return _similarity(tuple(words(first)), tuple(words(second)))


def _similarity(first_words: tuple[str, ...], second_words: tuple[str, ...]) -> int:
    if not first_words or not second_words:
        return 0
    first_words = _expand_acronyms(first_words, second_words)
    second_words = _expand_acronyms(second_words, first_words)
    total = sum(map(_weight, first_words)) + sum(map(_weight, second_words))
    overlap = (_matched_weight(first_words, second_words) + _matched_weight(second_words, first_words)) / total
    distinctive_first = _distinctive(first_words)
    distinctive_second = _distinctive(second_words)
    if distinctive_first and distinctive_second:
        overlap = min(overlap, fuzz.token_sort_ratio(distinctive_first, distinctive_second) / 100)
    return round(100 * overlap)


@lru_cache(maxsize=100_000)
def _distinctive(name_words: tuple[str, ...]) -> str:
    return " ".join(word for word in name_words if not _is_common(word))


def _compared_text(name_words: tuple[str, ...]) -> str:
    return _distinctive(name_words) or " ".join(name_words)


def split_names(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Each name as its folded words, the form the index and the scoring work on."""
    return [tuple(words(name)) for name in names]


class NameIndex(Protocol):
    """The names of one country's open associations, looked up by key (`name_keys`): kept in memory by
    DuplicateFinder, or in the registry's tables as associations are added, renamed, merged or dissolved."""

    def key_sizes(self, keys: set[str], *, up_to: int | None = None) -> dict[str, int]:
        """How many associations hold each of these keys (keys nobody holds are left out), counted only up to
        `up_to` when it is given (a key held by more is counted as `up_to`)."""

    def names_holding(self, keys: list[str]) -> dict[UUID, list[tuple[str, ...]]]:
        """The associations holding any of these keys, each with its names split into words."""


def find_candidates(index: NameIndex, names: Iterable[str], *, limit: int = 5) -> list[Candidate]:
    """The associations of the index whose names look like these, best first.

    The index narrows the field to the associations sharing a telling key; above a few, rapidfuzz's C scorer
    over the distinctive words keeps the closest; those are scored with name_similarity's rules. The cost
    depends on how many names look alike, not on how many associations the country has."""
    split = split_names(names)
    return candidates_of_split(index, split, name_keys(split), limit=limit)


def candidates_of_split(
    index: NameIndex, split: list[tuple[str, ...]], keys: set[str], *, limit: int = 5
) -> list[Candidate]:
    """find_candidates for names already split into words, with their keys (an import chunk has them)."""
    nearby = _nearby(index, keys)
    if len(nearby) > PREFILTER_ABOVE:
        nearby = {candidate_id: nearby[candidate_id] for candidate_id in _closest(split, nearby)}
    scored = []
    for candidate_id, candidate_names in nearby.items():
        score = max(_similarity(name, other) for name in split for other in candidate_names)
        if score >= THRESHOLD:
            scored.append(Candidate(candidate_id, score))
    return sorted(scored, key=lambda candidate: (-candidate.score, str(candidate.id)))[:limit]


def _closest(split: list[tuple[str, ...]], nearby: dict[UUID, list[tuple[str, ...]]]) -> set[UUID]:
    choices = {
        (candidate_id, index): _compared_text(name)
        for candidate_id, names in nearby.items()
        for index, name in enumerate(names)
    }
    closest = set()
    for name in split:
        for _choice, _score, (candidate_id, _index) in process.extract(
            _compared_text(name),
            choices,
            scorer=fuzz.token_set_ratio,
            score_cutoff=THRESHOLD,
            limit=PREFILTER_ABOVE,
        ):
            closest.add(candidate_id)
    return closest


def _nearby(index: NameIndex, keys: set[str]) -> dict[UUID, list[tuple[str, ...]]]:
    """Associations sharing a key. Keys are counted only as far as telling from broad: a broad key may be held
    by thousands, and counting them all made a look-up grow with the country. Only when every key is broad are
    they counted in full, since the smallest is then read."""
    sizes = index.key_sizes(keys, up_to=BROAD_KEY + 1)
    if sizes and min(sizes.values()) > BROAD_KEY:
        sizes = index.key_sizes(keys)
    return index.names_holding(keys_to_read(sizes))


def keys_to_read(sizes: dict[str, int]) -> list[str]:
    """The keys whose holders a look-up reads, given how many hold each: a key most names share (a city) says
    little and is passed over unless it is all there is."""
    by_size = sorted(sizes, key=sizes.__getitem__)
    telling = [key for key in by_size if sizes[key] <= BROAD_KEY]
    return telling or by_size[:1]


def name_keys(split: list[tuple[str, ...]]) -> set[str]:
    """Distinctive words and pairs of them (first three letters, to survive typos), and acronyms:
    each name's own (and its prefixes) and the short words that may be one."""
    keys = set()
    for name_words in split:
        distinctive = sorted({word[:3] for word in name_words if not _is_common(word)})
        keys.update(f"w:{word}" for word in distinctive)
        keys.update(f"p:{first}+{second}" for first, second in combinations(distinctive, 2))
        acronym = _acronym(name_words)
        keys.update(f"a:{acronym[:length]}" for length in range(3, len(acronym) + 1))
        keys.update(f"a:{word}" for word in name_words if 3 <= len(word) <= 5 and not _is_common(word))
    return keys


@dataclass
class DuplicateFinder:
    """A NameIndex in memory: the associations of one country, indexed by their keys as they are added."""

    names: dict[UUID, list[tuple[str, ...]]] = field(default_factory=dict)
    by_key: dict[str, set[UUID]] = field(default_factory=dict)

    def add(self, association: NamedAssociation) -> None:
        split = split_names(association.names)
        self.names[association.id] = split
        for key in name_keys(split):
            self.by_key.setdefault(key, set()).add(association.id)

    def candidates(self, names: Iterable[str], *, limit: int = 5) -> list[Candidate]:
        return find_candidates(self, names, limit=limit)

    def key_sizes(self, keys: set[str], *, up_to: int | None = None) -> dict[str, int]:
        sizes = {key: len(self.by_key[key]) for key in keys if key in self.by_key}
        return sizes if up_to is None else {key: min(size, up_to) for key, size in sizes.items()}

    def names_holding(self, keys: list[str]) -> dict[UUID, list[tuple[str, ...]]]:
        return {association_id: self.names[association_id] for key in keys for association_id in self.by_key[key]}
