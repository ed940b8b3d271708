"""Search queries as the gateway parses them from a URL: several values, points, and readable refusals."""

import pytest

from contracts.search import AssociationQuery, IndividualQuery, NearbyQuery, SuggestQuery
from contracts.validation import InvalidPayload, parse


def problems(model, payload) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as refused:
        parse(model, payload)
    return {problem["field"]: problem["problem"] for problem in refused.value.problems}


@pytest.mark.parametrize("sent", ["IN,sg", ["IN", "sg"], ["IN,sg"], [" IN ", "SG", "in"]])
def test_several_countries_may_be_sent_in_any_form(sent):
    assert AssociationQuery(country=sent).country == ["IN", "SG"]


def test_languages_are_iso_639_3_and_categories_are_known():
    query = AssociationQuery(language="lus,en", category=["welfare", "church"])

    assert query.language == ["lus", "eng"]
    assert query.category == ["welfare", "church"]
    assert "category.0" in problems(AssociationQuery, {"category": "football"})


def test_near_is_lat_comma_lon():
    query = AssociationQuery(near="-37.81, 144.96", radius_km="25")

    assert (query.near.lat, query.near.lon, query.radius_km) == (-37.81, 144.96, 25.0)
    assert "lat,lon" in problems(AssociationQuery, {"near": "Melbourne"})["near"]
    assert "near.lat" in problems(AssociationQuery, {"near": "91,0"})


def test_geo_options_need_a_point():
    assert "radius_km needs near" in problems(AssociationQuery, {"radius_km": 5})["body"]
    assert "sort=distance needs near" in problems(AssociationQuery, {"sort": "distance"})["body"]


@pytest.mark.parametrize("radius", [0, -1, 30000, "nan", "inf"])
def test_a_radius_must_be_positive_finite_and_at_most_half_the_globe(radius):
    assert "radius_km" in problems(AssociationQuery, {"near": "0,0", "radius_km": radius})


def test_pages_stop_at_ten_thousand_hits():
    assert AssociationQuery(page=100, size=100).page == 100
    assert "at most 10000" in problems(AssociationQuery, {"page": 101, "size": 100})["body"]
    assert "size" in problems(IndividualQuery, {"size": 101})


def test_unknown_parameters_are_refused():
    assert problems(AssociationQuery, {"colour": "red"}) == {"colour": "is not a field of this request"}


def test_a_suggestion_needs_something_typed():
    assert "q" in problems(SuggestQuery, {"q": "  "})


def test_nearby_has_a_default_limit_of_fifty():
    assert NearbyQuery(lat=1, lon=2, radius_km=50).limit == 50
    assert "limit" in problems(NearbyQuery, {"lat": 1, "lon": 2, "radius_km": 5, "limit": 1000})


def test_a_query_survives_the_trip_over_rpc():
    query = AssociationQuery(q="Ṭhalai", country="IN,SG", near="23.7,92.7", radius_km=50, sort="distance", page=2)

    assert AssociationQuery.model_validate(query.model_dump(mode="json", exclude_defaults=True)) == query
