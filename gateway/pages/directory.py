"""The directory: search, filters with their counts, paging, and the results on an offline world map.

"Near a place" turns a city and country into a point with the same gazetteer the registry uses for
associations without a location, then asks search for associations within the radius. Markers are drawn at each
association's city, over the world map that `world_map` built, in the same projection.
"""

from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from contracts.associations import CATEGORIES
from contracts.errors import Invalid
from contracts.search import AssociationHit, AssociationQuery, AssociationResults
from contracts.validation import parse
from gateway.http import query_of
from gateway.pages.forms import field_problems
from gateway.pages.rendering import page, render
from gateway.pages.world_map import MAP_HEIGHT, MAP_WIDTH, project
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


class DirectoryPages:
    gazetteer = Shared(Gazetteer)

    @page("GET", "/directory")
    def directory_page(self, request: Request):
        arguments = {name: value for name, value in query_of(request).items() if value not in ("", [])}
        place = {name: str(arguments.pop(name, "")).strip() for name in PLACE_FIELDS}
        context = {
            "place": place,
            "errors": {},
            "results": None,
            "markers": [],
            "centre": None,
            "facet_link": partial(facet_link, request),
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
        results = AssociationResults.model_validate(
            self.search.search_associations(query.model_dump(mode="json", exclude_defaults=True), None)
        )
        context |= {
            "results": results,
            "markers": [marker for hit in results.items if (marker := self.marker(hit)) is not None],
            "centre": centre,
            "paging": paging(request, query, results.total),
        }
        return render(request, "directory.html", query=query, **context)

    def place_point(self, place: dict[str, str], arguments: dict) -> Marker | None:
        """The point to search around: a typed city and country, else `near=lat,lon` (from "near me")."""
        if not place["near_city"]:
            if "near" not in arguments:
                arguments.pop("radius_km", None)
            return None
        if not place["near_country"]:
            raise Invalid("Choose the country of the place as well.")
        location = self.gazetteer.locate(place["near_city"], place["near_country"])
        if location is None:
            raise Invalid("We do not know that place; try the nearest large city.")
        arguments["near"] = f"{location.lat},{location.lon}"
        arguments.setdefault("radius_km", DEFAULT_RADIUS_KM)
        x, y = project(location.lat, location.lon)
        return Marker(x=x, y=y, label=place["near_city"])

    def marker(self, hit: AssociationHit) -> Marker | None:
        location = self.gazetteer.locate(hit.city, hit.country)
        if location is None:
            return None
        x, y = project(location.lat, location.lon)
        return Marker(x=x, y=y, label=f"{hit.name}, {hit.city}", href=f"/associations/{hit.id}")


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


def facet_link(request: Request, name: str, value: str) -> str:
    kept = [(key, item) for key, item in request.args.items(multi=True) if key not in (name, "page")]
    return "/directory?" + urlencode([*kept, (name, value)])
