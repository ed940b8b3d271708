"""Great-circle distances and the boxes around circles, at the poles and across the antimeridian."""

import random
from math import isclose

import pytest

from services.search.geo import WHOLE_GLOBE, Point, bounding_box, closeness_within, great_circle_km


def inside(box, lat: float, lon: float) -> bool:
    return box.min_lat <= lat <= box.max_lat and any(west <= lon <= east for west, east in box.lon_ranges)


def test_known_distances_between_cities():
    aizawl, delhi = (23.7271, 92.7176), (28.6139, 77.2090)

    assert isclose(great_circle_km(*aizawl, *delhi), 1645, rel_tol=0.01)
    assert great_circle_km(*aizawl, *aizawl) == 0


def test_a_degree_of_latitude_is_about_111_km():
    assert isclose(great_circle_km(10, 20, 11, 20), 111.195, rel_tol=1e-4)


def test_distance_across_the_antimeridian_is_the_short_way_round():
    assert isclose(great_circle_km(0, 179.8, 0, -179.8), 44.478, rel_tol=1e-3)


def test_points_on_opposite_meridians_near_a_pole_are_close():
    assert isclose(great_circle_km(89.9, 0, 89.9, 180), 22.239, rel_tol=1e-3)


def test_antipodes_are_half_the_circumference_apart():
    assert isclose(great_circle_km(0, 0, 0, 180), 20015.1, rel_tol=1e-4)


def test_a_box_away_from_poles_and_antimeridian_is_one_range():
    box = bounding_box(23.7, 92.7, 50)

    assert len(box.lon_ranges) == 1
    assert box.min_lat < 23.7 < box.max_lat


def test_a_box_across_the_antimeridian_is_two_ranges():
    box = bounding_box(0, 179.9, 50)

    assert len(box.lon_ranges) == 2
    assert inside(box, 0, -179.8)
    assert inside(box, 0, 179.8)
    assert not inside(box, 0, 0)


def test_a_box_that_reaches_a_pole_spans_every_longitude():
    box = bounding_box(89.8, 10, 50)

    assert box.max_lat == 90
    assert box.lon_ranges == ((-180.0, 180.0),)


def test_a_radius_of_half_the_globe_covers_everything():
    assert bounding_box(0, 0, 20040) == WHOLE_GLOBE


@pytest.mark.parametrize("centre", [(0, 0), (45, 179.5), (-60, -179.9), (89.5, 0), (-89.9, 120), (10, -179.99)])
def test_every_point_within_the_radius_is_inside_the_box(centre):
    generator = random.Random(7)
    radius_km = 300
    box = bounding_box(*centre, radius_km)
    within = 0
    for _ in range(5000):
        lat, lon = generator.uniform(-90, 90), generator.uniform(-180, 180)
        lat = centre[0] + (lat - centre[0]) / 20
        lon = ((centre[1] + (lon - centre[1]) / 5) + 180) % 360 - 180
        if great_circle_km(*centre, lat, lon) <= radius_km:
            within += 1
            assert inside(box, lat, lon), (lat, lon)
    assert within > 50


@pytest.mark.parametrize(
    ("a", "b"), [((0, 179.8), (0, -179.8)), ((89.9, 0), (89.9, 180)), ((23.7, 92.7), (28.6, 77.2))]
)
def test_closeness_orders_and_bounds_points_as_the_distance_does(a, b):
    distance = great_circle_km(*a, *b)
    closeness = Point.of(*a).closeness_to(Point.of(*b))

    assert closeness <= closeness_within(distance * 1.0001)
    assert closeness > closeness_within(distance * 0.9999)
