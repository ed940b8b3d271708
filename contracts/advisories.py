"""Advisories the Mizo Diaspora Cell publishes (unrest, disaster, new rules), and the safety check they may carry.

Severity, urgency and certainty take the OASIS CAP 1.2 values, so an advisory is a CAP alert as it stands. The
area is a circle or a list of countries. Advisories are public (a JSON list, CAP documents, an Atom feed); safety
answers are for the Cell alone.
"""

import re
from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from contracts.associations import CountryCode
from contracts.events import EventEnvelope

MAX_RADIUS_KM = 20_040.0  # half the Earth's circumference: a larger circle covers the whole globe anyway
MAX_COUNTRIES = 250

Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
SafetyStatus = Literal["safe", "need_help"]
# Characters XML 1.0 cannot carry (control characters other than tab and line breaks, lone surrogates, U+FFFE/F):
# an advisory is published as XML, so it may not contain them.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    if _NOT_IN_XML.search(value):
        raise ValueError("must not contain control characters (other than tabs and line breaks)")
    return value


def _text(max_length: int) -> object:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length), AfterValidator(_xml_text)
    ]


Headline = _text(200)
Description = _text(5000)
Instruction = _text(5000)


class _Request(BaseModel):
    """Numbers and booleans must be sent as such (not `"1.5"` nor `0`): they are strict where they appear."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Circle(_Request):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, strict=True)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, strict=True)
    radius_km: float = Field(gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False, strict=True)


class Area(_Request):
    """Exactly one of: a circle around a point, or ISO 3166-1 alpha-2 country codes."""

    circle: Circle | None = None
    countries: Annotated[list[CountryCode], Field(max_length=MAX_COUNTRIES)] = []

    @model_validator(mode="after")
    def _one_kind(self) -> "Area":
        if (self.circle is None) == (not self.countries):
            raise ValueError("give either a circle {lat, lon, radius_km} or a non-empty list of countries")
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("countries: each country only once")
        return self


class AdvisoryDraft(_Request):
    """`expires_at` must be in the future; `safety_check` asks everyone reached "are you safe?"."""

    headline: Headline
    description: Description
    instruction: Instruction | None = None
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    area: Area
    expires_at: AwareDatetime
    safety_check: StrictBool = False


class AdvisoryV1(BaseModel):
    """An advisory as anyone sees it; `reached` counts the associations and people it was sent to."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    headline: str
    description: str
    instruction: str | None = None
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    area: Area
    safety_check: bool
    published_at: AwareDatetime
    expires_at: AwareDatetime
    expired: bool = False
    reached: int = 0


class AdvisoryQuery(_Request):
    """Advisories still in force first (newest first), then the expired ones."""

    page: int = Field(default=1, ge=1, le=1000)
    size: int = Field(default=20, ge=1, le=100)


class AdvisoryList(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    items: list[AdvisoryV1]


class AdvisoryDocument(BaseModel):
    """A rendered document: one CAP 1.2 alert or the Atom feed, with its media type."""

    model_config = ConfigDict(frozen=True)

    media_type: str
    body: str


class SafetyAnswer(_Request):
    """An individual answers for themself; an association's admin for the association (`association_id` when they
    administer several reached by the advisory) or, with `for_member`, for one of its members."""

    status: SafetyStatus
    for_member: UUID | None = None
    association_id: UUID | None = None


class SafetyAnswerV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    advisory_id: UUID
    party: str  # "individual:<id>" or "association:<id>"
    status: SafetyStatus
    answered_at: AwareDatetime
    help_request_id: UUID | None = None


class SafetyCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    country: str
    city: str
    safe: int = 0
    need_help: int = 0
    not_answered: int = 0


class SafetyCounts(BaseModel):
    """Per country and city: the associations and people the advisory reached (and anyone who answered)."""

    model_config = ConfigDict(frozen=True)

    advisory_id: UUID
    safe: int
    need_help: int
    not_answered: int
    places: list[SafetyCount]


class SafetyReminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    advisory_id: UUID
    reminded: int


class AdvisorySubscription(_Request):
    """A person's choice to receive the Cell's advisories for where they live (their profile's city)."""

    receive: StrictBool


class AdvisorySubscriptionV1(BaseModel):
    """`country` and `city`: where advisories are sent for (the profile's, once alerts has heard of it)."""

    model_config = ConfigDict(frozen=True)

    individual_id: UUID
    receive: bool
    country: str | None = None
    city: str | None = None


class PeopleRebuild(BaseModel):
    """How many people alerts read again from the registry (`diasporahub alerts rebuild-people`)."""

    model_config = ConfigDict(frozen=True)

    people: int


class AdvisoryEvent(EventEnvelope):
    source = "alerts"


class AdvisoryPublishedV1(AdvisoryEvent):
    """The aggregate is the advisory; it is public, so the event carries it whole."""

    routing_key = "advisory_published.v1"

    advisory: AdvisoryV1


class SafetyAnsweredV1(AdvisoryEvent):
    """The aggregate is one party's answer to one advisory (its id: `safety_answer_id(advisory_id, party)`);
    `aggregate_version` counts that party's answers, the latest counting. The place is the city, never finer."""

    routing_key = "safety_answered.v1"

    advisory_id: UUID
    party: str
    status: SafetyStatus
    country: str
    city: str
    answered_by_account_id: UUID


def safety_answer_id(advisory_id: UUID, party: str) -> UUID:
    """The same for every answer of one party to one advisory."""
    return uuid5(advisory_id, party)


ADVISORY_EVENTS: tuple[type[AdvisoryEvent], ...] = (AdvisoryPublishedV1, SafetyAnsweredV1)
