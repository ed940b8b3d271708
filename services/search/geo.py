"""Great-circle distance and the latitude/longitude box around a circle, right at the poles and the antimeridian."""

from dataclasses import dataclass
from math import asin, cos, degrees, pi, radians, sin, sqrt

# The mean Earth radius, as Elasticsearch's arc distance uses it, so both engines agree on distances.
EARTH_RADIUS_KM = 6371.0088
# Widens the box by a hair so that rounding never leaves out a point exactly on the circle.
_MARGIN_DEGREES = 1e-9


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance; periodic in longitude, so 179.9° and -179.9° are neighbours."""
    phi1, phi2 = radians(lat1), radians(lat2)
    half_chord = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos(phi2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(half_chord)))


@dataclass(frozen=True)
class Point:
    """A place with its sines and cosines worked out once, for measuring from it to many others."""

    phi: float
    lam: float
    cos_phi: float

    @classmethod
    def of(cls, lat: float, lon: float) -> "Point":
        return cls(radians(lat), radians(lon), cos(radians(lat)))

    def closeness_to(self, other: "Point") -> float:
        """The haversine of the angle between the two: it grows with the distance, and costs less to work out."""
        return (
            sin((other.phi - self.phi) / 2) ** 2 + self.cos_phi * other.cos_phi * sin((other.lam - self.lam) / 2) ** 2
        )


def closeness_within(radius_km: float) -> float:
    """The largest Point.closeness_to of two points at most `radius_km` apart."""
    return sin(min(pi, radius_km / EARTH_RADIUS_KM) / 2) ** 2


@dataclass(frozen=True)
class BoundingBox:
    """Every point within the circle is inside: a latitude band and one or two longitude ranges."""

    min_lat: float
    max_lat: float
    lon_ranges: tuple[tuple[float, float], ...]


WHOLE_GLOBE = BoundingBox(-90.0, 90.0, ((-180.0, 180.0),))


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """After J. P. Matuschek, "Finding points within a distance of a latitude/longitude".

    A circle that reaches a pole spans every longitude; one that crosses the antimeridian
    spans two longitude ranges, one on each side.
    """
    angular = radius_km / EARTH_RADIUS_KM
    if angular >= pi:
        return WHOLE_GLOBE
    min_lat = lat - degrees(angular) - _MARGIN_DEGREES
    max_lat = lat + degrees(angular) + _MARGIN_DEGREES
    if min_lat <= -90 or max_lat >= 90:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), ((-180.0, 180.0),))
    half_width = degrees(asin(sin(angular) / cos(radians(lat)))) + _MARGIN_DEGREES
    west, east = lon - half_width, lon + half_width
    if west < -180:
        return BoundingBox(min_lat, max_lat, ((west + 360, 180.0), (-180.0, east)))
    if east > 180:
        return BoundingBox(min_lat, max_lat, ((west, 180.0), (-180.0, east - 360)))
    return BoundingBox(min_lat, max_lat, ((west, east),))
