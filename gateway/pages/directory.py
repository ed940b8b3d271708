"""The directory: search, filters with their counts, paging, and the results on an offline world map.

"Near a place" turns a city and country into a point with the same gazetteer the registry uses for
associations without a location, then asks search for associations within the radius. Markers are drawn at each
association's city, over the world map that `world_map` built, in the same projection.

The map's outlines are a static file drawn once at install time; a page draws only its markers, from points kept
per city, as one piece of SVG made here (twenty markers in a template loop cost more than the rest of the map).
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote_plus, urlencode

from markupsafe import Markup, escape
from werkzeug.wrappers import Request

from contracts.associations import CATEGORIES, Location
from contracts.errors import Invalid
from contracts.search import AssociationHit, AssociationQuery, AssociationResults, Facets
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.http import query_of
from gateway.pages.forms import field_problems
from gateway.pages.rendering import page, render
from gateway.pages.world_map import MAP_HEIGHT, MAP_WIDTH, project
from gateway.public_reads import search_key
from servicekit.places import Gazetteer
from servicekit.shared import Shared

PAGE_SIZE = 20
DEFAULT_RADIUS_KM = 100
RADIUS_CHOICES_KM = (25, 50, 100, 250, 500, 1000)
PLACE_FIELDS = ("near_city", "near_country")


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str
    href: str | None = None


class CityPoints:
    """A city's point on the map, looked up in the gazetteer once per city and kept: the directory's cities repeat."""

    def __init__(self, gazetteer: Gazetteer | None = None):
        self.gazetteer = gazetteer or Gazetteer()
        self.point = lru_cache(maxsize=8192)(self._point)

    def locate(self, city: str, country: str) -> Location | None:
        return self.gazetteer.locate(city, country)

    def _point(self, city: str, country: str) -> tuple[float, float] | None:
        location = self.gazetteer.locate(city, country)
        return None if location is None else project(location.lat, location.lon)


@lru_cache(maxsize=256)
def kept_results(kept: str) -> AssociationResults:
    """A kept answer read into its model once, keyed by the text: the same for as long as the gateway keeps it."""
    return AssociationResults.model_validate_json(kept)


def map_marks(centre: Marker | None, markers: list[Marker]) -> Markup:
    """The SVG of the searched place (a dark dot) and of each association (a link to its page)."""
    marks = []
    if centre is not None:
        title = escape(centre.label)
        marks.append(f'<circle cx="{centre.x}" cy="{centre.y}" r="4" fill="#1b1b1b"><title>{title}</title></circle>')
    for marker in markers:
        label = escape(marker.label)
        marks.append(
            f'<a href="{escape(marker.href)}" aria-label="{label}"><circle class="marker" cx="{marker.x}" '
            f'cy="{marker.y}" r="7"><title>{label}</title></circle></a>'
        )
    return Markup("\n".join(marks))


class DirectoryPages:
    places = Shared(CityPoints)

    @page("GET", "/directory")
    def directory_page(self, request: Request):
        arguments = {name: value for name, value in query_of(request).items() if value not in ("", [])}
        place = {name: str(arguments.pop(name, "")).strip() for name in PLACE_FIELDS}
        context = {
            "place": place,
            "errors": {},
            "results": None,
            "map_size": (MAP_WIDTH, MAP_HEIGHT),
            "radius_choices": RADIUS_CHOICES_KM,
            "categories": CATEGORIES,
        }
        try:
            centre = self.place_point(place, arguments)
            query = parse(AssociationQuery, arguments | {"size": PAGE_SIZE})
        except Invalid as exc:
            errors = field_problems(exc) or {"near": exc.message}
            return render(request, "directory.html", status=422, query=None, **context | {"errors": errors})
        results = self.results(request, query.model_dump(mode="json", exclude_defaults=True))
        markers = [marker for hit in results.items if (marker := self.marker(hit)) is not None]
        context |= {
            "results": results,
            "map_marks": map_marks(centre, markers),
            "facets": facet_links(request, results.facets),
            "paging": paging(request, query, results.total),
        }
        return render(request, "directory.html", query=query, **context)

    def results(self, request: Request, payload: dict) -> AssociationResults:
        """Search's public results; for a reader without a session, the answer kept as the API keeps it."""
        if session_token_of(request) is not None:
            return AssociationResults.model_validate(self.search.search_associations(payload, None))
        return kept_results(
            self.public_reads.read(search_key(payload), lambda: self.search.search_associations(payload, None))
        )

    def place_point(self, place: dict[str, str], arguments: dict) -> Marker | None:
        """The point to search around: a typed city and country, else `near=lat,lon` (from "near me")."""
        if not place["near_city"]:
            if "near" not in arguments:
                arguments.pop("radius_km", None)
            return None
        if not place["near_country"]:
            raise Invalid("Choose the country of the place as well.")
        location = self.places.locate(place["near_city"], place["near_country"])
        if location is None:
            raise Invalid("We do not know that place; try the nearest large city.")
        arguments["near"] = f"{location.lat},{location.lon}"
        arguments.setdefault("radius_km", DEFAULT_RADIUS_KM)
        x, y = project(location.lat, location.lon)
        return Marker(x=x, y=y, label=place["near_city"])

    def marker(self, hit: AssociationHit) -> Marker | None:
        point = self.places.point(hit.city, hit.country)
        if point is None:
            return None
        return Marker(x=point[0], y=point[1], label=f"{hit.name}, {hit.city}", href=f"/associations/{hit.id}")


def paging(request: Request, query: AssociationQuery, total: int) -> dict:
    """Links to the previous and next pages, keeping every other parameter."""
    last_page = max(1, -(-total // PAGE_SIZE))

    def link(page_number: int) -> str:
        kept = [(name, value) for name, value in request.args.items(multi=True) if name != "page"]
        return "/directory?" + urlencode([*kept, ("page", page_number)])

    return {
        "page": query.page,
        "last": last_page,
        "previous": link(query.page - 1) if query.page > 1 else None,
        "next": link(query.page + 1) if query.page < last_page else None,
    }


FACETS = ("country", "language", "category")


def facet_links(request: Request, facets: Facets) -> dict[str, list[tuple[str, str, int]]]:
    """Each facet's values as (link, value, count): the search again, narrowed to the value, from its first page."""
    links = {}
    for name in FACETS:
        kept = urlencode([(key, item) for key, item in request.args.items(multi=True) if key not in (name, "page")])
        start = f"/directory?{kept}&{name}=" if kept else f"/directory?{name}="
        links[name] = [(start + quote_plus(value), value, count) for value, count in getattr(facets, name).items()]
    return links
