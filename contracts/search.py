"""Search queries and results: what the gateway and other services send to search, and what comes back.

Filters that take several values accept them repeated (`country=IN&country=SG`), comma-separated
(`country=IN,SG`) or as a list; a hit matches if it has any of them.
"""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from contracts.associations import AssociationStatus, Category, CountryCode, LanguageCode, Location

# Past this many hits a search should be narrowed rather than paged; Elasticsearch refuses to page deeper.
MAX_RESULT_WINDOW = 10_000
# Half the Earth's circumference: a larger radius covers the whole globe anyway.
MAX_RADIUS_KM = 20_040.0
MAX_FILTER_VALUES = 50

SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Sort = Literal["relevance", "distance", "name", "newest"]


def _several(value: object) -> object:
    """`'IN,SG'`, `['IN', 'SG']` and `['IN,SG']` all become `['IN', 'SG']`; None becomes no filter."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return value
    return [part.strip() for item in items for part in _split(item) if not isinstance(part, str) or part.strip()]


def _split(item: object) -> list:
    return item.split(",") if isinstance(item, str) else [item]


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _point(value: object) -> object:
    """`near=23.73,92.72` as sent in a URL, or a {lat, lon} object."""
    if not isinstance(value, str):
        return value
    lat, comma, lon = value.partition(",")
    if not comma:
        raise ValueError("must be 'lat,lon' in degrees, such as 23.73,92.72")
    return {"lat": lat.strip(), "lon": lon.strip()}


def _several_of(item_type: object) -> object:
    return Annotated[
        list[item_type],
        BeforeValidator(_several),
        Field(max_length=MAX_FILTER_VALUES),
        AfterValidator(_unique),
    ]


Countries = _several_of(CountryCode)
Languages = _several_of(LanguageCode)
Categories = _several_of(Category)
Statuses = _several_of(AssociationStatus)
Point = Annotated[Location, BeforeValidator(_point, json_schema_input_type=str)]
RadiusKm = Annotated[float, Field(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)]


class _Paged(BaseModel):
    page: int = Field(default=1, ge=1)
    size: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="after")
    def _within_result_window(self):
        if self.page * self.size > MAX_RESULT_WINDOW:
            raise ValueError(f"page × size must be at most {MAX_RESULT_WINDOW}; narrow the search instead")
        return self


class AssociationQuery(_Paged):
    """`sort=relevance` orders by how well the text matches, else by distance when `near` is given, else by name.

    `status` is for Cell staff only; everyone else sees verified associations alone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: SearchText = ""
    country: Countries = []
    language: Languages = []
    category: Categories = []
    status: Statuses = []
    near: Point | None = None
    radius_km: RadiusKm | None = None
    sort: Sort = "relevance"

    @model_validator(mode="after")
    def _geo_needs_a_point(self) -> "AssociationQuery":
        if self.near is None and self.radius_km is not None:
            raise ValueError("radius_km needs near=lat,lon")
        if self.near is None and self.sort == "distance":
            raise ValueError("sort=distance needs near=lat,lon")
        return self


class AssociationHit(BaseModel):
    """`distance_km` (great-circle, from `near`) is there when the query had `near` and the association a location."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    alternate_names: list[str] = []
    country: str
    city: str
    languages: list[str]
    categories: list[str] = []
    status: AssociationStatus
    # Left out, not null, when there is no distance.
    distance_km: float | None = Field(default=None, exclude_if=lambda distance: distance is None)


class Facets(BaseModel):
    """How many of all the hits (not only this page) have each country, language and category."""

    model_config = ConfigDict(frozen=True)

    country: dict[str, int] = {}
    language: dict[str, int] = {}
    category: dict[str, int] = {}


class AssociationResults(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    items: list[AssociationHit]
    facets: Facets = Facets()


class SuggestQuery(BaseModel):
    """Type-ahead: every word typed is the beginning of a word of a verified association's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    size: int = Field(default=10, ge=1, le=20)


class Suggestion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    country: str
    city: str


class Suggestions(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[Suggestion]


class NearbyQuery(BaseModel):
    """Verified associations within `radius_km` of a point, nearest first (for the alerts service)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_km: RadiusKm
    categories: Categories = []
    languages: Languages = []
    limit: int = Field(default=50, ge=1, le=100)


class IndividualQuery(_Paged):
    """Who comes back depends on who asks; see services/search/audience.py."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: SearchText = ""
    country: Countries = []
    language: Languages = []


class IndividualHit(BaseModel):
    """An individual as search shows them: never a contact detail, the place no finer than the city."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]


class IndividualResults(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    items: list[IndividualHit]
