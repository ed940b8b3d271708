"""Alerts: help requests from people in trouble abroad, and the events of their lifecycle.

What an association sees before it claims a case is a `HelpRequestV1` without `description`, `location` and
`contact` (None): the reference, category, urgency, city, a location rounded to about 10 km and a short summary.
Events never carry contact details, the exact location or the description.
"""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from contracts.associations import CountryCode, LanguageCode, Location, Phone
from contracts.events import EventEnvelope

HelpCategory = Literal[
    "medical",
    "accident",
    "death_and_repatriation",
    "detention_or_legal",
    "missing_person",
    "financial_hardship",
    "abuse_or_exploitation",
    "disaster",
    "other",
]
HelpUrgency = Literal["immediate", "expected", "future"]
Severity = Literal["extreme", "severe", "moderate", "minor"]
HelpStatus = Literal["open", "claimed", "in_progress", "resolved", "referred", "cancelled"]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HelpLanguages = Annotated[list[LanguageCode], Field(max_length=20)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Request):
    """How to reach the person in need (restricted: the claiming association and the Cell)."""

    name: Name
    phone: Phone | None = None
    email: EmailStr | None = None


class Place(_Request):
    """Where help is needed: a point, or a country and a city the gazetteer knows."""

    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    country: CountryCode | None = None
    city: City | None = None

    @model_validator(mode="after")
    def _a_point_or_a_city(self) -> "Place":
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and (self.country is None or self.city is None):
            raise ValueError("give lat and lon, or country and city")
        return self


class HelpRequestDraft(_Request):
    category: HelpCategory
    urgency: HelpUrgency
    severity: Severity = "moderate"
    description: Description
    location: Place
    languages: HelpLanguages = []
    contact: Contact | None = None
    on_behalf_of_someone_else: bool = False


class HelpRequestCreated(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    reference: str
    status: HelpStatus
    notified_count: int
    follow_key: str | None = Field(default=None, exclude_if=lambda key: key is None)
    """Only for a request made without an account: it opens the request's page (`?key=`), shown once."""


class HelpRequestQuery(_Request):
    status: HelpStatus | None = None
    mine: bool = False
    association_id: UUID | None = None


class FollowKey(_Request):
    key: Annotated[str, StringConstraints(max_length=200)] | None = None


class ClaimRequest(_Request):
    """An association's admins claim for it; the Cell assigns it (or, without `association_id`, takes it over)."""

    association_id: UUID | None = None


class AssociationChoice(_Request):
    association_id: UUID | None = None


class Decline(_Request):
    association_id: UUID | None = None
    reason: Reason


class CaseUpdate(_Request):
    body: Description


class Resolution(_Request):
    summary: Description


class Referral(_Request):
    to: Name
    """The body the case goes to: an Indian mission, MADAD, a hospital, a lawyer."""
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""


class Cancellation(_Request):
    reason: Reason
    false_alarm: bool = False
    """The Cell marks the request a false alarm."""


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    kind: str
    actor: str
    """`person`, `cell`, `association:<id>` or `alerts` (the service itself)."""
    note: str = ""


class NotifiedAssociation(BaseModel):
    model_config = ConfigDict(frozen=True)

    association_id: UUID
    name: str
    ring: str
    distance_km: float | None = None
    notified_at: AwareDatetime
    acknowledged_at: AwareDatetime | None = None
    declined_at: AwareDatetime | None = None
    decline_reason: str | None = None


class HelpRequestV1(BaseModel):
    """A help request as the caller may see it: the restricted fields are None for whoever may not see them."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    reference: str
    status: HelpStatus
    category: HelpCategory
    urgency: HelpUrgency
    severity: Severity
    country: str | None
    city: str | None
    approximate_location: Location | None
    summary: str
    languages: list[str]
    held_for_cell: bool
    claimed_by: str | None
    """`association:<id>`, `cell`, or None while nobody has it."""
    ring: str
    next_escalation_at: AwareDatetime | None
    created_at: AwareDatetime
    description: str | None = None
    location: Location | None = None
    contact: Contact | None = None
    notified: list[NotifiedAssociation] = []
    timeline: list[TimelineEntry] = []


class HelpRequestList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[HelpRequestV1]


class RequesterBlock(_Request):
    reason: Reason


class RequesterBlockV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    help_request_id: UUID
    blocked_account: bool
    blocked_address: bool
    reason: str


class AlertsEvent(EventEnvelope):
    """The aggregate is the help request; `aggregate_version` counts its steps. Never who or exactly where."""

    source = "alerts"

    reference: str
    status: HelpStatus


class HelpRequestedV1(AlertsEvent):
    routing_key = "help_requested.v1"

    category: HelpCategory
    urgency: HelpUrgency
    country: str | None
    city: str | None
    held_for_cell: bool


class HelpRequestReleasedV1(AlertsEvent):
    routing_key = "help_request_released.v1"


class AssociationsNotifiedV1(AlertsEvent):
    routing_key = "associations_notified.v1"

    ring: str
    association_ids: list[UUID]


class HelpRequestClaimedV1(AlertsEvent):
    routing_key = "help_request_claimed.v1"

    claimed_by: str


class HelpRequestUpdatedV1(AlertsEvent):
    routing_key = "help_request_updated.v1"

    by: str


class HelpRequestEscalatedV1(AlertsEvent):
    routing_key = "help_request_escalated.v1"

    ring: str
    round: int


class HelpRequestResolvedV1(AlertsEvent):
    routing_key = "help_request_resolved.v1"

    by: str


class HelpRequestReferredV1(AlertsEvent):
    routing_key = "help_request_referred.v1"

    to: str


class HelpRequestCancelledV1(AlertsEvent):
    routing_key = "help_request_cancelled.v1"

    false_alarm: bool


HELP_REQUEST_EVENTS: tuple[type[AlertsEvent], ...] = (
    HelpRequestedV1,
    HelpRequestReleasedV1,
    AssociationsNotifiedV1,
    HelpRequestClaimedV1,
    HelpRequestUpdatedV1,
    HelpRequestEscalatedV1,
    HelpRequestResolvedV1,
    HelpRequestReferredV1,
    HelpRequestCancelledV1,
)
