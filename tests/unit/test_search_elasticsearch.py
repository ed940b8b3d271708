"""The Elasticsearch engine without a cluster: its settings, mappings and analyzers, and the exact requests it sends.

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
from contracts.search import AssociationQuery, IndividualQuery, SuggestQuery
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import IndividualAudience
from services.search.elastic.engine import BulkWriteFailed, ElasticsearchEngine, ElasticsearchIndex
from services.search.elastic.mappings import (
    ANALYSIS,
    ASSOCIATION_MAPPINGS,
    INDEX_SETTINGS,
    INDIVIDUAL_MAPPINGS,
    IndexNames,
)

ASSOCIATION_ID = UUID("6f1c1f52-9d7e-4a39-9a55-0e2b8a8c1d11")
INDIVIDUAL_ID = UUID("0b7f0c3e-52f4-4d1d-8a60-7e4de3d7c2a9")
ALL_TEXT_FIELDS = ["name^10", "alternate_names^8", "office_bearer_names^2", "city^3", "description"]
ALL_PREFIX_FIELDS = [
    "name.prefix^10",
    "alternate_names.prefix^8",
    "office_bearer_names.prefix^2",
    "city.prefix^3",
    "description.prefix",
]


class Cluster:
    """What the recording node saw, and what it answers next (status, body); 200 {} when nothing is scripted."""

    def __init__(self):
        self.requests: list[tuple[str, str, object]] = []
        self.answers: list[tuple[int, dict]] = []

    def node_class(self) -> type[BaseNode]:
        cluster = self

        class RecordingNode(BaseNode):
            def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
                cluster.requests.append((method, target, _decoded(body)))
                status, answer = cluster.answers.pop(0) if cluster.answers else (200, {})
                headers = HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"})
                meta = ApiResponseMeta(
                    status=status, http_version="1.1", headers=headers, duration=0.0, node=self.config
                )
                return NodeApiResponse(meta, json.dumps(answer).encode())

        return RecordingNode


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
    client = Elasticsearch("http://elasticsearch.test:9200", node_class=cluster.node_class())
    return ElasticsearchIndex(client, IndexNames("dh-"))


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


# Settings, analyzers and mappings -------------------------------------------------------------------------------


def test_text_is_split_on_anything_but_letters_digits_and_marks_then_lowercased_and_ascii_folded():
    assert ANALYSIS["tokenizer"]["words"] == {"type": "pattern", "pattern": r"[^\p{L}\p{N}\p{M}]+"}
    assert ANALYSIS["analyzer"]["folded"] == {
        "type": "custom",
        "tokenizer": "words",
        "filter": ["lowercase", "asciifolding"],
    }
    assert ANALYSIS["normalizer"]["folded"] == {"type": "custom", "filter": ["lowercase", "asciifolding"]}


def test_prefixes_are_indexed_as_edge_ngrams_and_searched_whole():
    assert ANALYSIS["filter"]["prefixes"] == {"type": "edge_ngram", "min_gram": 1, "max_gram": 20}
    assert ANALYSIS["analyzer"]["folded_prefixes"]["filter"] == ["lowercase", "asciifolding", "prefixes"]
    assert ASSOCIATION_MAPPINGS["properties"]["alternate_names"]["fields"]["prefix"] == {
        "type": "text",
        "analyzer": "folded_prefixes",
        "search_analyzer": "folded",
    }


def test_one_shard_keeps_facet_counts_and_totals_exact():
    assert INDEX_SETTINGS["number_of_shards"] == 1
    assert INDEX_SETTINGS["analysis"] is ANALYSIS


def test_association_mapping_is_strict_and_has_no_contact_details():
    properties = ASSOCIATION_MAPPINGS["properties"]

    assert ASSOCIATION_MAPPINGS["dynamic"] == "strict"
    assert properties["location"] == {"type": "geo_point"}
    assert properties["name"]["fields"]["sort"] == {"type": "keyword", "normalizer": "folded"}
    assert {
        name: properties[name]["type"] for name in ("country", "languages", "categories", "status")
    } == dict.fromkeys(("country", "languages", "categories", "status"), "keyword")
    assert not {"email", "phone", "website", "address", "gathering_places", "member_count"} & properties.keys()
    assert set(AssociationDocument.model_fields) | {"public"} == properties.keys()


def test_individual_mapping_has_no_contact_details_and_keeps_tombstones():
    properties = INDIVIDUAL_MAPPINGS["properties"]

    assert INDIVIDUAL_MAPPINGS["dynamic"] == "strict"
    assert not {"email", "phone", "address", "location"} & properties.keys()
    assert set(IndividualDocument.model_fields) | {"removed"} == properties.keys()


def test_missing_indices_are_created_under_their_aliases_with_fixed_names(cluster):
    client = Elasticsearch("http://elasticsearch.test:9200", node_class=cluster.node_class())
    cluster.answers = [(404, {}), (200, {"acknowledged": True}), (200, {})]

    ElasticsearchEngine(client, names=IndexNames("dh-")).warm_up()

    assert cluster.requests == [
        ("HEAD", "/_alias/dh-associations", None),
        (
            "PUT",
            "/dh-associations-initial",
            {"aliases": {"dh-associations": {}}, "mappings": ASSOCIATION_MAPPINGS, "settings": INDEX_SETTINGS},
        ),
        ("HEAD", "/_alias/dh-individuals", None),
    ]


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
    assert cluster.requests == [
        (
            "POST",
            "/dh-associations/_search?_source_excludes=public",
            {
                "query": {
                    "bool": {
                        "must": [
                            {
                                "bool": {
                                    "should": [
                                        {"multi_match": {"query": "thalai", "fields": ALL_PREFIX_FIELDS}},
                                        {
                                            "multi_match": {
                                                "query": "thalai",
                                                "fields": ALL_TEXT_FIELDS,
                                                "fuzziness": 1,
                                                "prefix_length": 0,
                                            }
                                        },
                                    ],
                                    "minimum_should_match": 1,
                                }
                            },
                            {"multi_match": {"query": "fel", "fields": ALL_PREFIX_FIELDS}},
                        ],
                        "filter": [
                            {"term": {"public": True}},
                            {"terms": {"country": ["IN", "SG"]}},
                            {"terms": {"languages": ["lus"]}},
                            {"terms": {"categories": ["church"]}},
                            {"geo_distance": {"distance": "50.0km", "distance_type": "arc", "location": point}},
                        ],
                    }
                },
                "sort": [
                    {"_geo_distance": {"location": point, "order": "asc", "unit": "km", "distance_type": "arc"}},
                    {"name.sort": "asc"},
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


def test_cell_staff_search_by_status_without_the_public_filter(cluster, index):
    cluster.answers = [(200, search_answer())]

    index.search_associations(AssociationQuery(status="pending,suspended", sort="newest"), public_only=False)

    [(_, _, body)] = cluster.requests
    assert body["query"] == {"bool": {"must": [], "filter": [{"terms": {"status": ["pending", "suspended"]}}]}}
    assert body["sort"] == [{"registered_at": "desc"}, {"id": "asc"}]


@pytest.mark.parametrize(
    ("query", "sort"),
    [
        (AssociationQuery(q="mizo"), ["_score", {"name.sort": "asc"}, {"id": "asc"}]),
        (AssociationQuery(), [{"name.sort": "asc"}, {"id": "asc"}]),
        (AssociationQuery(q="mizo", sort="name"), [{"name.sort": "asc"}, {"id": "asc"}]),
    ],
)
def test_relevance_falls_back_to_distance_then_name(cluster, index, query, sort):
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


def test_suggestions_match_name_prefixes_of_verified_associations_without_typos(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]

    index.suggest_associations(SuggestQuery(q="Lal Ṭhalai", size=5))

    prefix_fields = ["name.prefix", "alternate_names.prefix"]
    assert cluster.requests == [
        (
            "POST",
            "/dh-associations/_search?_source_excludes=public",
            {
                "query": {
                    "bool": {
                        "must": [
                            {"multi_match": {"query": "lal", "fields": prefix_fields}},
                            {"multi_match": {"query": "thalai", "fields": prefix_fields}},
                        ],
                        "filter": [{"term": {"public": True}}],
                    }
                },
                "sort": ["_score", {"name.sort": "asc"}, {"id": "asc"}],
                "size": 5,
            },
        )
    ]


def test_an_association_admin_searches_public_people_and_people_of_their_countries(cluster, index):
    cluster.answers = [(200, {"hits": {"total": {"value": 0}, "hits": []}})]
    audience = IndividualAudience(association_countries=frozenset({"SG", "AE"}), own_id=INDIVIDUAL_ID)

    index.search_individuals(IndividualQuery(language="lus"), audience)

    assert cluster.requests == [
        (
            "POST",
            "/dh-individuals/_search?_source_excludes=removed",
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
                "sort": [{"name.sort": "asc"}, {"id": "asc"}],
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


# Writing ------------------------------------------------------------------------------------------------------------


def bulk_answer(*statuses: int) -> dict:
    return {
        "errors": any(s >= 300 for s in statuses),
        "items": [{"index": {"_id": "x", "status": s}} for s in statuses],
    }


def test_an_association_is_written_with_its_external_version_to_the_live_and_the_rebuilt_index(cluster, index):
    cluster.answers = [(200, bulk_answer(201, 404))]

    assert index.put_association(association(), version=3) is True

    source = association().model_dump(mode="json") | {"public": True}
    action = {"_id": str(ASSOCIATION_ID), "version": 3, "version_type": "external", "require_alias": True}
    assert cluster.requests == [
        (
            "PUT",
            "/_bulk",
            [
                {"index": {"_index": "dh-associations", **action}},
                source,
                {"index": {"_index": "dh-associations-building", **action}},
                source,
            ],
        )
    ]


def test_a_version_conflict_means_a_newer_version_is_kept(cluster, index):
    cluster.answers = [(200, bulk_answer(409, 404))]

    assert index.put_association(association(), version=1) is False


def test_any_other_refusal_fails_so_the_event_is_retried(cluster, index):
    cluster.answers = [(200, bulk_answer(429, 404))]

    with pytest.raises(BulkWriteFailed):
        index.put_association(association(), version=1)


def test_a_removed_individual_stays_as_a_versioned_tombstone_in_the_live_and_the_rebuilt_index(cluster, index):
    cluster.answers = [(200, bulk_answer(200, 404))]

    assert index.remove_individual(INDIVIDUAL_ID, version=4) is True

    action = {"_id": str(INDIVIDUAL_ID), "version": 4, "version_type": "external", "require_alias": True}
    tombstone = {"id": str(INDIVIDUAL_ID), "removed": True}
    assert cluster.requests[0][2] == [
        {"index": {"_index": "dh-individuals", **action}},
        tombstone,
        {"index": {"_index": "dh-individuals-building", **action}},
        tombstone,
    ]


def test_an_individual_is_written_without_contact_details(cluster, index):
    cluster.answers = [(200, bulk_answer(201, 404))]
    individual = IndividualDocument(
        id=INDIVIDUAL_ID, name="Lalremruati", country="SG", city="Singapore", languages=["lus"], visibility="public"
    )

    index.put_individual(individual, version=1)

    assert cluster.requests[0][2][1] == {
        "id": str(INDIVIDUAL_ID),
        "name": "Lalremruati",
        "country": "SG",
        "city": "Singapore",
        "languages": ["lus"],
        "visibility": "public",
        "removed": False,
    }


# Rebuilding ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "finish"), [("associations", "finish_rebuild"), ("individuals", "finish_individual_rebuild")]
)
def test_a_rebuild_switches_the_alias_in_one_request_and_drops_the_old_index(cluster, index, kind, finish):
    cluster.answers = [
        (200, {f"dh-{kind}-20260102": {"aliases": {f"dh-{kind}-building": {}}}}),
        (200, {f"dh-{kind}-initial": {"aliases": {f"dh-{kind}": {}}}}),
        (200, {}),
        (200, {"acknowledged": True}),
        (200, {"acknowledged": True}),
    ]

    getattr(index, finish)()

    assert cluster.requests == [
        ("GET", f"/_alias/dh-{kind}-building", None),
        ("GET", f"/_alias/dh-{kind}", None),
        ("POST", f"/dh-{kind}-20260102/_refresh", None),
        (
            "POST",
            "/_aliases",
            {
                "actions": [
                    {"remove": {"index": f"dh-{kind}-initial", "alias": f"dh-{kind}"}},
                    {"add": {"index": f"dh-{kind}-20260102", "alias": f"dh-{kind}"}},
                    {"remove": {"index": f"dh-{kind}-20260102", "alias": f"dh-{kind}-building"}},
                ]
            },
        ),
        ("DELETE", f"/dh-{kind}-initial", None),
    ]


def test_a_rebuild_begins_with_a_new_index_behind_the_building_alias(cluster, index):
    cluster.answers = [(404, {}), (200, {"acknowledged": True})]

    index.begin_rebuild()

    method, target, body = cluster.requests[1]
    assert (method, body) == (
        "PUT",
        {"aliases": {"dh-associations-building": {}}, "mappings": ASSOCIATION_MAPPINGS, "settings": INDEX_SETTINGS},
    )
    assert target.startswith("/dh-associations-2")
