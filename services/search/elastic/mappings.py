"""Index settings and mappings. The analyzers fold text as the embedded engine does.

Documents are sent in NFC (composed) form, so `ṭ` arrives as one letter that `asciifolding`
turns into `t`, as it turns `â ê î ô û á à ä é è ë í ì ï ó ò ú ù ü` into plain vowels. Words
are split where anything but a letter, digit or mark stands, as contracts.text splits them.
Each text field has a `prefix` subfield of edge n-grams, so that every typed word can match
as the beginning of an indexed word.
"""

from dataclasses import dataclass

# The longest word beginning that matches as a prefix; longer words still match whole.
LONGEST_PREFIX = 20

ANALYSIS = {
    "tokenizer": {"words": {"type": "pattern", "pattern": r"[^\p{L}\p{N}\p{M}]+"}},
    "filter": {"prefixes": {"type": "edge_ngram", "min_gram": 1, "max_gram": LONGEST_PREFIX}},
    "analyzer": {
        "folded": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]},
        "folded_prefixes": {
            "type": "custom",
            "tokenizer": "words",
            "filter": ["lowercase", "asciifolding", "prefixes"],
        },
    },
    "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
}

# One shard keeps counts of facets and totals exact; the indices are small (thousands of documents).
INDEX_SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": "0-1", "analysis": ANALYSIS}

KEYWORD = {"type": "keyword"}
SEARCHABLE_TEXT = {
    "type": "text",
    "analyzer": "folded",
    "fields": {"prefix": {"type": "text", "analyzer": "folded_prefixes", "search_analyzer": "folded"}},
}
SORTABLE_TEXT = {
    **SEARCHABLE_TEXT,
    "fields": {**SEARCHABLE_TEXT["fields"], "sort": {"type": "keyword", "normalizer": "folded"}},
}

ASSOCIATION_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "name": SORTABLE_TEXT,
        "alternate_names": SEARCHABLE_TEXT,
        "description": SEARCHABLE_TEXT,
        "office_bearer_names": SEARCHABLE_TEXT,
        "city": SEARCHABLE_TEXT,
        "region": {"type": "keyword", "index": False},
        "country": KEYWORD,
        "languages": KEYWORD,
        "categories": KEYWORD,
        "status": KEYWORD,
        "merged_into": KEYWORD,
        "public": {"type": "boolean"},
        "location": {"type": "geo_point"},
        "registered_at": {"type": "date"},
    },
}

INDIVIDUAL_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "name": SORTABLE_TEXT,
        "city": SEARCHABLE_TEXT,
        "country": KEYWORD,
        "languages": KEYWORD,
        "visibility": KEYWORD,
        "removed": {"type": "boolean"},
    },
}


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

    def first_index(self, alias: str) -> str:
        """A fixed name, so that two processes creating the index at once create one index, not two."""
        return f"{alias}-initial"
