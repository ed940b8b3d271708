"""Index settings and mappings.

Elasticsearch splits and folds no text of its own: each document carries, beside its fields as they
are, a `words` object holding the words of services.search.text (the embedded engine's very words)
separated by spaces, and a `sort_name`, its name's sort key. The `words` fields are split at spaces
only; each has a `prefix` subfield of its words' beginnings (edge n-grams up to LONGEST_PREFIX
letters) that a typed word, cut to LONGEST_PREFIX letters as the reference recommends for
search-as-you-type, must match. The text fields themselves are kept, not indexed.
"""

from dataclasses import dataclass

from services.search.domain import ASSOCIATION_TIERS, INDIVIDUAL_TIERS
from services.search.text import LONGEST_PREFIX

ANALYSIS = {
    "filter": {
        "beginnings": {"type": "edge_ngram", "min_gram": 1, "max_gram": LONGEST_PREFIX},
        "longest_prefix": {"type": "truncate", "length": LONGEST_PREFIX},
    },
    "analyzer": {
        "word_beginnings": {"type": "custom", "tokenizer": "whitespace", "filter": ["beginnings"]},
        "typed_prefix": {"type": "custom", "tokenizer": "whitespace", "filter": ["longest_prefix"]},
    },
}

# One shard keeps counts of facets and totals exact; the indices are small (thousands of documents).
INDEX_SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "analysis": ANALYSIS}

KEYWORD = {"type": "keyword"}
KEPT_TEXT = {"type": "text", "index": False}
# Scores are never used (relevance is in tiers, queries.py), so neither are frequencies, positions or norms.
WORDS = {
    "type": "text",
    "analyzer": "whitespace",
    "index_options": "docs",
    "norms": False,
    "fields": {
        "prefix": {
            "type": "text",
            "analyzer": "word_beginnings",
            "search_analyzer": "typed_prefix",
            "index_options": "docs",
            "norms": False,
        }
    },
}


def _words_of(fields: tuple[str, ...]) -> dict:
    return {"properties": {field: WORDS for field in fields}}


ASSOCIATION_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "name": KEPT_TEXT,
        "alternate_names": KEPT_TEXT,
        "description": KEPT_TEXT,
        "office_bearer_names": KEPT_TEXT,
        "city": KEPT_TEXT,
        "region": {"type": "keyword", "index": False},
        "country": KEYWORD,
        "languages": KEYWORD,
        "categories": KEYWORD,
        "status": KEYWORD,
        "merged_into": KEYWORD,
        "public": {"type": "boolean"},
        "location": {"type": "geo_point"},
        # Microseconds, as the embedded engine sorts by them (`date` would keep milliseconds only).
        "registered_at": {"type": "date_nanos"},
        "verification_due_at": {"type": "date"},
        "words": _words_of(ASSOCIATION_TIERS[-1]),
        "sort_name": KEYWORD,
    },
}

INDIVIDUAL_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "name": KEPT_TEXT,
        "city": KEPT_TEXT,
        "country": KEYWORD,
        "languages": KEYWORD,
        "visibility": KEYWORD,
        "removed": {"type": "boolean"},
        "words": _words_of(INDIVIDUAL_TIERS[-1]),
        "sort_name": KEYWORD,
    },
}

# One document per index being rebuilt, `{"active_at": …}`; never searched.
REBUILD_MAPPINGS = {"dynamic": False, "properties": {}}


@dataclass(frozen=True)
class IndexNames:
    """Queries and writes go through aliases, so that a rebuilt index can take over at once."""

    prefix: str = "diasporahub-"

    @property
    def associations(self) -> str:
        return f"{self.prefix}associations"

    @property
    def associations_building(self) -> str:
        """The alias of an association index being rebuilt; writes go to it as well while it exists."""
        return f"{self.prefix}associations-building"

    @property
    def individuals(self) -> str:
        return f"{self.prefix}individuals"

    @property
    def individuals_building(self) -> str:
        """The alias of an individual index being rebuilt; writes go to it as well while it exists."""
        return f"{self.prefix}individuals-building"

    @property
    def rebuilds(self) -> str:
        """The index of which rebuilds are under way, one document per alias being rebuilt."""
        return f"{self.prefix}rebuilds"

    def first_index(self, alias: str) -> str:
        """A fixed name, so that two processes creating the index at once create one index, not two."""
        return f"{alias}-initial"
