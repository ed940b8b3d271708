"""Distance filters and sorting, correct near the poles and across the antimeridian."""

from math import isclose

from contracts.search import AssociationQuery
from tests.integration.search_contract.documents import association


def near(index, point: str, radius_km: float | None = None, **query):
    return index.search_associations(AssociationQuery(near=point, radius_km=radius_km, **query), public_only=True).items


def test_an_association_40_km_away_is_inside_a_50_km_radius_and_outside_a_30_km_one(index):
    # 0.3597° of latitude is 40 km on the mean-radius sphere.
    index.put_association(association("Champhai Pawl", location={"lat": 23.7271 + 0.35972, "lon": 92.7176}), version=1)

    [hit] = near(index, "23.7271,92.7176", 50)
    assert isclose(hit.distance_km, 40.0, abs_tol=0.01)
    assert near(index, "23.7271,92.7176", 30) == []


def test_a_pair_across_the_antimeridian_are_neighbours(index):
    index.put_association(association("Suva", location={"lat": -17.0, "lon": 179.9}), version=1)
    index.put_association(association("Far away", location={"lat": -17.0, "lon": 0.0}), version=1)

    hits = near(index, "-17.0,-179.9", 50)

    assert [hit.name for hit in hits] == ["Suva"]
    assert isclose(hits[0].distance_km, 21.27, abs_tol=0.05)


def test_near_the_pole_every_longitude_is_close(index):
    index.put_association(association("Other side of the pole", location={"lat": 89.9, "lon": -170.0}), version=1)
    index.put_association(association("Same meridian, further", location={"lat": 89.0, "lon": 10.0}), version=1)

    hits = near(index, "89.9,10", 30)

    assert [hit.name for hit in hits] == ["Other side of the pole"]
    assert isclose(hits[0].distance_km, 22.24, abs_tol=0.05)


def test_sort_by_distance_nearest_first_with_distances_and_unplaced_last(index):
    index.put_association(association("Delhi", location={"lat": 28.6139, "lon": 77.209}), version=1)
    index.put_association(association("Aizawl", location={"lat": 23.7271, "lon": 92.7176}), version=1)
    index.put_association(association("Nowhere known"), version=1)
    index.put_association(association("Shillong", location={"lat": 25.5788, "lon": 91.8933}), version=1)

    hits = near(index, "23.7271,92.7176", sort="distance")

    assert [hit.name for hit in hits] == ["Aizawl", "Shillong", "Delhi", "Nowhere known"]
    assert [hit.distance_km is None for hit in hits] == [False, False, False, True]
    assert hits[0].distance_km == 0.0
    assert hits[1].distance_km < hits[2].distance_km


def test_geo_combines_with_text_and_filters(index):
    place = {"lat": -37.8136, "lon": 144.9631}
    index.put_association(association("Melbourne Mizo Church", categories=["church"], location=place), version=1)
    index.put_association(association("Melbourne Mizo Youth", categories=["youth"], location=place), version=1)
    index.put_association(
        association("Sydney Mizo Church", categories=["church"], location={"lat": -33.87, "lon": 151.21}), version=1
    )

    hits = near(index, "-37.81,144.96", 100, q="mizo", category="church")

    assert [hit.name for hit in hits] == ["Melbourne Mizo Church"]
