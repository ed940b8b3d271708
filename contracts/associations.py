"""Association payloads shared by the registry, search and the gateway (fields after Open Referral HSDS 3.0)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    JsonValue,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from contracts.codes import country_code, language_code

CountryCode = Annotated[str, AfterValidator(country_code)]
LanguageCode = Annotated[str, AfterValidator(language_code)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
AssociationStatus = Literal["pending", "verified", "rejected", "suspended", "dissolved"]
Category = Literal["welfare", "church", "youth", "women", "students", "cultural", "professional", "other"]
CATEGORIES: tuple[str, ...] = Category.__args__


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _international_phone(value: str) -> str:
    """E.164, so that one number is written one way; a leading + and country code are required."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{value}' is not a phone number in international form, such as +91 389 232 2000") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{value}' is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plausible_founding_year(year: int) -> int:
    if year > datetime.now(UTC).year:
        raise ValueError(f"{year} is in the future")
    return year


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_international_phone)]
Languages = Annotated[list[LanguageCode], Field(min_length=1, max_length=20), AfterValidator(_unique)]
Categories = Annotated[list[Category], Field(max_length=len(CATEGORIES)), AfterValidator(_unique)]
AlternateNames = Annotated[list[ShortText], Field(max_length=10), AfterValidator(_unique)]
FoundedYear = Annotated[int, Field(ge=1800), AfterValidator(_plausible_founding_year)]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class OfficeBearer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    title: ShortText
    term_start: date | None = None
    term_end: date | None = None

    @model_validator(mode="after")
    def _term_in_order(self) -> "OfficeBearer":
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValueError("term_end is before term_start")
        return self


class GatheringPlace(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    schedule: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class AssociationDraft(BaseModel):
    """What someone sends to register an association; only name, country, city, languages and email are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    alternate_names: AlternateNames = []
    description: LongText = ""
    categories: Categories = []
    country: CountryCode
    city: ShortText
    region: ShortText | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    location: Location | None = None
    languages: Languages
    email: EmailStr
    phone: Phone | None = None
    website: HttpUrl | None = None
    office_bearers: Annotated[list[OfficeBearer], Field(max_length=50)] = []
    gathering_places: Annotated[list[GatheringPlace], Field(max_length=20)] = []
    founded_year: FoundedYear | None = None
    member_count: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    parent_id: UUID | None = None


class AssociationPatch(BaseModel):
    """A partial edit: only the fields sent change; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText | None = None
    alternate_names: AlternateNames | None = None
    description: LongText | None = None
    categories: Categories | None = None
    country: CountryCode | None = None
    city: ShortText | None = None
    region: ShortText | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    location: Location | None = None
    languages: Languages | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    website: HttpUrl | None = None
    office_bearers: Annotated[list[OfficeBearer], Field(max_length=50)] | None = None
    gathering_places: Annotated[list[GatheringPlace], Field(max_length=20)] | None = None
    founded_year: FoundedYear | None = None
    member_count: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    parent_id: UUID | None = None

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> "AssociationPatch":
        for field in ("name", "country", "city", "languages", "email"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} is required and cannot be cleared")
        return self


class AssociationV1(AssociationDraft):
    """An association as the registry holds it. `location` is the given one or, failing that, the city's."""

    id: UUID
    status: AssociationStatus
    status_reason: str | None = None
    verification_due_at: AwareDatetime | None = None
    merged_into: UUID | None = None
    version: int
    registered_at: AwareDatetime
    updated_at: AwareDatetime


class MergeRequest(BaseModel):
    """Merge this association into `into`, the one that is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    into: UUID


class VerificationDecision(BaseModel):
    """The Cell's decision on an association (`dissolve`: also its admins); rejecting or suspending needs a reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["verify", "reject", "suspend", "dissolve"]
    reason: str | None = Field(default=None, max_length=2000)


class ReviewQuery(BaseModel):
    """The Cell's review queue: associations by status, a page at a time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: AssociationStatus | None = None
    page: int = Field(default=1, ge=1)
    size: int = Field(default=50, ge=1, le=200)


# The history has always shown its times as Python writes them (`+00:00`, not `Z`); kept so.
HistoryTime = Annotated[
    AwareDatetime, PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json")
]


class AssociationChange(BaseModel):
    """One entry of an association's history: who changed which field when, old and new value (as JSON)."""

    model_config = ConfigDict(frozen=True)

    changed_at: HistoryTime
    account_id: UUID | None = None
    field: str
    old_value: JsonValue = None
    new_value: JsonValue = None


class PossibleDuplicate(BaseModel):
    """An association whose name looks like this one's, in the same country; the higher the score the closer."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    score: int


class AssociationForReview(AssociationV1):
    possible_duplicates: list[PossibleDuplicate] = []


class ReviewPage(BaseModel):
    """One page of the Cell's review queue and how many associations it holds in all."""

    model_config = ConfigDict(frozen=True)

    total: int
    items: list[AssociationForReview]


class AssociationList(BaseModel):
    """Associations as a JSON body: `{"items": [...]}` (verifications due, the JSON export)."""

    model_config = ConfigDict(frozen=True)

    items: list[AssociationV1]


class AssociationHistory(BaseModel):
    """An association's history as a JSON body: `{"items": [...]}`, oldest first."""

    model_config = ConfigDict(frozen=True)

    items: list[AssociationChange]
