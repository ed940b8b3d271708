"""The main time zone of a country, for digests whose recipient chose none: the first zone the tz database's
`zone.tab` lists for it (most populous first), corrected where that file orders a country's zones by geography."""

from functools import cache
from importlib.resources import files

# zone.tab lists these countries' zones east to west (or west to east), not by population.
MAIN_ZONE_CORRECTIONS = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
}


@cache
def _first_zone_of_each_country() -> dict[str, str]:
    first: dict[str, str] = {}
    for line in files("tzdata").joinpath("zoneinfo", "zone.tab").read_text().splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *_ = line.split("\t")
            first.setdefault(country, zone)
    return first | MAIN_ZONE_CORRECTIONS


def main_time_zone(country: str | None) -> str:
    """`Asia/Kolkata` for IN; UTC for an unknown (or no) country."""
    return _first_zone_of_each_country().get((country or "").upper(), "UTC")
