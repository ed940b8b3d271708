"""The Elasticsearch engine without a cluster: its settings, mappings and analyzers, and the exact searches it sends.

No Elasticsearch server can run here, so a node that records each request and answers from a
script stands in for the cluster; the real client builds and sends every request. The contract
suite (tests/integration/search_contract) runs against a live cluster when SEARCH_ELASTICSEARCH_URL is set.
"""

import json
from datetime import UTC, datetime
from uuid import UUID

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

from contracts.associations import CATEGORIES
from contracts.errors import Unavailable
from contracts.search import AssociationQuery, IndividualQuery, SuggestQuery
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import IndividualAudience
from services.search.elastic.engine import ElasticsearchEngine
from services.search.elastic.index import ElasticsearchIndex
from services.search.elastic.mappings import (
    ANALYSIS,
    ASSOCIATION_MAPPINGS,
    INDEX_SETTINGS,
    INDIVIDUAL_MAPPINGS,
    IndexNames,
)

ASSOCIATION_ID = UUID("6f1c1f52-9d7e-4a39-9a55-0e2b8a8c1d11")
INDIVIDUAL_ID = UUID("0b7f0c3e-52f4-4d1d-8a60-7e4de3d7c2a9")
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
# The public sees an association only while its verification is not due (the clock's now, as sent).
NOT_DUE_BY_NOW = {
    "bool": {
        "should": [
            {"bool": {"must_not": {"exists": {"field": "verification_due_at"}}}},
            {"range": {"verification_due_at": {"gt": "2027-03-01T09:00:00+00:00"}}},
        ],
        "minimum_should_match": 1,
    }
}
TIER_FIELDS = (
    ["name", "alternate_names"],
    ["name", "alternate_names", "city", "office_bearer_names"],
    ["name", "alternate_names", "city", "office_bearer_names", "description"],
)


class Cluster:
    """What the recording node saw, and what it answers next (status, body); 200 {} when nothing is scripted."""

    def __init__(self):
        self.requests: list[tuple[str, str, object]] = []
        self.timeouts: list[float | None] = []
        self.headers: list[dict] = []
        self.answers: list[tuple[int, dict]] = []

    def node_class(self) -> type[BaseNode]:
        cluster = self

        class RecordingNode(BaseNode):
            def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
                cluster.requests.append((method, target, _decoded(body)))
                cluster.timeouts.append(request_timeout)
                cluster.headers.append(dict(headers or {}))
                status, answer = cluster.answers.pop(0) if cluster.answers else (200, {})
                headers = HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"})
                meta = ApiResponseMeta(
                    status=status, http_version="1.1", headers=headers, duration=0.0, node=self.config
                )
                return NodeApiResponse(meta, json.dumps(answer).encode())

        return RecordingNode

    def client(self, url: str = "http://elasticsearch.test:9200", **options) -> Elasticsearch:
        return Elasticsearch(url, node_class=self.node_class(), **options)

    def engine(self) -> ElasticsearchEngine:
        return ElasticsearchEngine(self.client(request_timeout=5), names=IndexNames("dh-"), clock=lambda: NOW)

    def index(self) -> ElasticsearchIndex:
        with self.engine().unit_of_work() as work:
            return work.index


def _decoded(body: bytes | None) -> object:
    if not body:
        return None
    lines = body.decode().strip().splitlines()
    return json.loads(lines[0]) if len(lines) == 1 else [json.loads(line) for line in lines]


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def index(cluster) -> ElasticsearchIndex:
    return cluster.index()


def association(**fields) -> AssociationDocument:
    return AssociationDocument(
        **{
            "id": ASSOCIATION_ID,
            "name": "Ṭhalai Mizo Fellowship",
            "country": "SG",
            "city": "Singapore",
            "languages": ["lus"],
            "status": "verified",
            "location": {"lat": 1.3521, "lon": 103.8198},
            "registered_at": datetime(2026, 1, 2, tzinfo=UTC),
        }
        | fields
    )


def search_answer(*sources: dict, total: int | None = None) -> dict:
    return {
        "hits": {
            "total": {"value": len(sources) if total is None else total},
            "hits": [{"_source": s} for s in sources],
        },
        "aggregations": {
            "country": {"buckets": [{"key": "SG", "doc_count": 3}, {"key": "IN", "doc_count": 1}]},
            "language": {"buckets": [{"key": "lus", "doc_count": 4}]},
            "category": {"buckets": []},
        },
    }


def prefix_clause(word: str, fields: list[str]) -> dict:
    return {"multi_match": {"query": word, "fields": [f"words.{field}.prefix" for field in fields]}}


def typo_tolerant_clause(word: str, fields: list[str]) -> dict:
    with_typo = {
        "multi_match": {
            "query": word,
            "fields": [f"words.{field}" for field in fields],
            "fuzziness": 1,
            "prefix_length": 0,
        }
    }
    return {"bool": {"should": [prefix_clause(word, fields), with_typo], "minimum_should_match": 1}}


# Settings, analyzers and mappings -------------------------------------------------------------------------------


def test_elasticsearch_splits_only_at_spaces_the_words_python_made():
    assert ANALYSIS["analyzer"] == {
        "word_beginnings": {"type": "custom", "tokenizer": "whitespace", "filter": ["beginnings"]},
        "typed_prefix": {"type": "custom", "tokenizer": "whitespace", "filter": ["longest_prefix"]},
    }
    words = ASSOCIATION_MAPPINGS["properties"]["words"]["properties"]
    assert set(words) == {"name", "alternate_names", "city", "office_bearer_names", "description"}
    assert words["name"]["analyzer"] == "whitespace"
    assert set(INDIVIDUAL_MAPPINGS["properties"]["words"]["properties"]) == {"name", "city"}


def test_word_beginnings_are_indexed_up_to_20_letters_and_a_longer_typed_word_is_cut_to_20():
    assert ANALYSIS["filter"] == {
        "beginnings": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
        "longest_prefix": {"type": "truncate", "length": 20},
    }
    prefix = ASSOCIATION_MAPPINGS["properties"]["words"]["properties"]["alternate_names"]["fields"]["prefix"]
    assert (prefix["analyzer"], prefix["search_analyzer"]) == ("word_beginnings", "typed_prefix")


def test_the_text_itself_is_kept_not_indexed_and_names_sort_by_the_key_python_made():
    properties = ASSOCIATION_MAPPINGS["properties"]

    assert properties["name"] == {"type": "text", "index": False}
    assert properties["sort_name"] == {"type": "keyword"}
    assert INDIVIDUAL_MAPPINGS["properties"]["sort_name"] == {"type": "keyword"}


def test_registration_times_keep_their_microseconds():
    assert ASSOCIATION_MAPPINGS["properties"]["registered_at"] == {"type": "date_nanos"}


def test_one_shard_keeps_facet_counts_and_totals_exact():
    assert INDEX_SETTINGS["number_of_shards"] == 1
    assert INDEX_SETTINGS["analysis"] is ANALYSIS


def test_association_mapping_is_strict_and_has_no_contact_details():
    properties = ASSOCIATION_MAPPINGS["properties"]

    assert ASSOCIATION_MAPPINGS["dynamic"] == "strict"
    assert properties["location"] == {"type": "geo_point"}
    assert {
        name: properties[name]["type"] for name in ("country", "languages", "categories", "status")
    } == dict.fromkeys(("country", "languages", "categories", "status"), "keyword")
    assert not {"email", "phone", "website", "address", "gathering_places", "member_count"} & properties.keys()
    assert set(AssociationDocument.model_fields) | {"public", "words", "sort_name"} == properties.keys()


def test_individual_mapping_has_no_contact_details_and_keeps_tombstones():
    properties = INDIVIDUAL_MAPPINGS["properties"]

    assert INDIVIDUAL_MAPPINGS["dynamic"] == "strict"
    assert not {"email", "phone", "address", "location"} & properties.keys()
    assert set(IndividualDocument.model_fields) | {"removed", "words", "sort_name"} == properties.keys()


def test_missing_indices_are_created_under_their_aliases_with_fixed_names_and_a_long_timeout(cluster):
    cluster.answers = [(404, {}), (200, {"acknowledged": True}), (200, {})]

    cluster.engine().warm_up()

    assert cluster.requests == [
        ("HEAD", "/_alias/dh-associations", None),
        (
            "PUT",
            "/dh-associations-initial",
            {"aliases": {"dh-associations": {}}, "mappings": ASSOCIATION_MAPPINGS, "settings": INDEX_SETTINGS},
        ),
        ("HEAD", "/_alias/dh-individuals", None),
    ]
    assert cluster.timeouts == [600, 600, 600]


# Searching ---------------------------------------------------------------------------------------------------------


def test_an_association_search_sends_this_exact_request(cluster, index):
    cluster.answers = [(200, search_answer())]
    query = AssociationQuery(
        q="Ṭhalai fel",
        country="IN,SG",
        language="lus",
        category="church",
        near="23.7,92.7",
        radius_km=50,
        sort="distance",
        page=2,
        size=10,
    )

    index.search_associations(query, public_only=True)

    point = {"lat": 23.7, "lon": 92.7}
    tiers = [
        {
            "constant_score": {
                "filter": {"bool": {"filter": [typo_tolerant_clause("thalai", fields), prefix_clause("fel", fields)]}},
                "boost": 3 - rank,
            }
        }
        for rank, fields in enumerate(TIER_FIELDS)
    ]
    assert cluster.requests == [
        (
            "POST",
            "/dh-associations/_search?_source_excludes=public,words,sort_name",
            {
                "query": {
                    "bool": {
                        "must": [{"dis_max": {"queries": tiers}}],
                        "filter": [
                            {"term": {"public": True}},
                            NOT_DUE_BY_NOW,
                            {"terms": {"country": ["IN", "SG"]}},
                            {"terms": {"languages": ["lus"]}},
                            {"terms": {"categories": ["church"]}},
                            {"geo_distance": {"distance": "50.0km", "distance_type": "arc", "location": point}},
                        ],
                    }
                },
                "sort": [
                    {"_geo_distance": {"location": point, "order": "asc", "unit": "km", "distance_type": "arc"}},
                    {"sort_name": "asc"},
                    {"id": "asc"},
                ],
                "from": 10,
                "size": 10,
                "track_total_hits": True,
                "aggs": {
                    "country": {"terms": {"field": "country", "size": 300}},
                    "language": {"terms": {"field": "languages", "size": 1000}},
                    "category": {"terms": {"field": "categories", "size": len(CATEGORIES)}},
                },
            },
        )
    ]
    assert cluster.timeouts == [5]


def test_the_words_sent_are_pythons_in_any_script(cluster, index):
    cluster.answers = [(200, search_answer())]

    index.search_associations(AssociationQuery(q="मिज़ो Łódź"), public_only=True)

    [name_tier, *_] = cluster.requests[0][2]["query"]["bool"]["must"][0]["dis_max"]["queries"]
    assert name_tier["constant_score"]["filter"]["bool"]["filter"] == [
        prefix_clause("मिजो", TIER_FIELDS[0]),
        prefix_clause("lodz", TIER_FIELDS[0]),
    ]


def test_cell_staff_search_by_status_without_the_public_filter_newest_first(cluster, index):
    cluster.answers = [(200, search_answer())]

    index.search_associations(AssociationQuery(status="pending,suspended", sort="newest"), public_only=False)

    [(_, _, body)] = cluster.requests
    assert body["query"] == {"bool": {"must": [], "filter": [{"terms": {"status": ["pending", "suspended"]}}]}}
    assert body["sort"] == [{"registered_at": "desc"}, {"id": "asc"}]


@pytest.mark.parametrize(
    ("query", "sort"),
    [
        (AssociationQuery(q="mizo"), ["_score", {"sort_name": "asc"}, {"id": "asc"}]),
        (AssociationQuery(q="!?"), [{"sort_name": "asc"}, {"id": "asc"}]),
        (AssociationQuery(), [{"sort_name": "asc"}, {"id": "asc"}]),
        (AssociationQuery(q="mizo", sort="name"), [{"sort_name": "asc"}, {"id": "asc"}]),
    ],
)
def test_relevance_is_the_tier_then_distance_then_name(cluster, index, query, sort):
    cluster.answers = [(200, search_answer())]

    index.search_associations(query, public_only=True)

    assert cluster.requests[0][2]["sort"] == sort


def test_hits_carry_the_great_circle_distance_and_facets_count_every_hit(cluster, index):
    cluster.answers = [(200, search_answer(association().model_dump(mode="json"), total=4))]

    results = index.search_associations(AssociationQuery(near="1.3521,103.8198"), public_only=True)

    assert results.total == 4
    assert results.items[0].distance_km == 0.0
    assert results.items[0].name == "Ṭhalai Mizo Fellowship"
    assert results.facets.country == {"SG": 3, "IN": 1}
    assert results.facets.language == {"lus": 4}


def test_suggestions_match_name_prefixes_of_verified_associations_by_name_without_scores(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]

    index.suggest_associations(SuggestQuery(q="Lal Ṭhalai", size=5))

    names = ["name", "alternate_names"]
    assert cluster.requests == [
        (
            "POST",
            "/dh-associations/_search?_source_excludes=public,words,sort_name",
            {
                "query": {
                    "bool": {
                        "filter": [
                            prefix_clause("lal", names),
                            prefix_clause("thalai", names),
                            {"term": {"public": True}},
                            NOT_DUE_BY_NOW,
                        ]
                    }
                },
                "sort": [{"sort_name": "asc"}, {"id": "asc"}],
                "size": 5,
            },
        )
    ]


def test_people_come_in_tiers_name_then_city(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]

    index.search_individuals(IndividualQuery(q="lal"), IndividualAudience(everyone=True))

    body = cluster.requests[0][2]
    assert body["query"]["bool"]["must"] == [
        {
            "dis_max": {
                "queries": [
                    {"constant_score": {"filter": {"bool": {"filter": [prefix_clause("lal", ["name"])]}}, "boost": 2}},
                    {
                        "constant_score": {
                            "filter": {"bool": {"filter": [prefix_clause("lal", ["name", "city"])]}},
                            "boost": 1,
                        }
                    },
                ]
            }
        }
    ]
    assert body["sort"] == ["_score", {"sort_name": "asc"}, {"id": "asc"}]


def test_an_association_admin_searches_public_people_and_people_of_their_countries(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]
    audience = IndividualAudience(association_countries=frozenset({"SG", "AE"}), own_id=INDIVIDUAL_ID)

    index.search_individuals(IndividualQuery(language="lus"), audience)

    assert cluster.requests == [
        (
            "POST",
            "/dh-individuals/_search?_source_excludes=removed,words,sort_name",
            {
                "query": {
                    "bool": {
                        "must": [],
                        "filter": [
                            {"term": {"removed": False}},
                            {
                                "bool": {
                                    "should": [
                                        {"term": {"visibility": "public"}},
                                        {
                                            "bool": {
                                                "filter": [
                                                    {"term": {"visibility": "associations"}},
                                                    {"terms": {"country": ["AE", "SG"]}},
                                                ]
                                            }
                                        },
                                        {"term": {"id": str(INDIVIDUAL_ID)}},
                                    ],
                                    "minimum_should_match": 1,
                                }
                            },
                            {"terms": {"languages": ["lus"]}},
                        ],
                    }
                },
                "sort": [{"sort_name": "asc"}, {"id": "asc"}],
                "from": 0,
                "size": 20,
                "track_total_hits": True,
            },
        )
    ]


def test_cell_staff_search_people_without_a_visibility_filter(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]

    index.search_individuals(IndividualQuery(q="lal"), IndividualAudience(everyone=True))

    assert cluster.requests[0][2]["query"]["bool"]["filter"] == [{"term": {"removed": False}}]


EXPENSIVE_QUERIES_OFF = {
    "error": {
        "root_cause": [
            {
                "type": "exception",
                "reason": "[fuzzy] queries cannot be executed when 'search.allow_expensive_queries' is set to false.",
            }
        ],
        "type": "search_phase_execution_exception",
        "reason": "all shards failed",
    },
    "status": 400,
}


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize(
    "search",
    [
        lambda index: index.search_associations(AssociationQuery(q="fellowship"), public_only=True),
        lambda index: index.search_individuals(IndividualQuery(q="lalremruati"), IndividualAudience()),
    ],
)
def test_a_cluster_refusing_fuzzy_queries_is_a_clear_unavailable_not_a_failure(cluster, index, search, status):
    cluster.answers = [(status, EXPENSIVE_QUERIES_OFF)]

    with pytest.raises(Unavailable, match=r"refuses fuzzy queries \(search.allow_expensive_queries is false\)"):
        search(index)


def test_any_other_refusal_of_a_search_is_not_hidden(cluster, index):
    cluster.answers = [(400, {"error": {"type": "parsing_exception", "reason": "unknown query"}, "status": 400})]

    with pytest.raises(Exception, match="parsing_exception") as raised:
        index.search_associations(AssociationQuery(q="fellowship"), public_only=True)
    assert not isinstance(raised.value, Unavailable)
