"""Individuals: Mizos abroad who register and choose who may see them."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from contracts.associations import CountryCode, Languages, Phone, ShortText

Visibility = Literal["private", "associations", "public"]
MembershipStatus = Literal["requested", "accepted", "declined", "withdrawn"]


class IndividualDraft(BaseModel):
    """`private`: the Cell only; `associations`: verified associations in the same country; `public`: name,
    city and languages only. Contact details are never public."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    country: CountryCode
    city: ShortText
    languages: Languages
    visibility: Visibility = "private"
    email: EmailStr | None = None
    phone: Phone | None = None
    membership_requests: Annotated[list[UUID], Field(max_length=20)] = []


class IndividualPatch(BaseModel):
    """A partial edit: only the fields sent change; `null` clears the e-mail or phone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText | None = None
    country: CountryCode | None = None
    city: ShortText | None = None
    languages: Languages | None = None
    visibility: Visibility | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> "IndividualPatch":
        for field in ("name", "country", "city", "languages", "visibility"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} is required and cannot be cleared")
        return self


class IndividualProfileV1(BaseModel):
    """What leaves the registry about an individual in events: never contact details."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]
    visibility: Visibility
    association_ids: list[UUID] = []


class MembershipV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    individual_id: UUID | None
    association_id: UUID
    status: MembershipStatus
    requested_at: AwareDatetime
    decided_at: AwareDatetime | None = None


class MembershipDecision(BaseModel):
    """An association's admins accept or decline a request to join."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["accept", "decline"]


class MembershipQuery(BaseModel):
    """An association's requests to join, by status (all of them without one), oldest first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: MembershipStatus | None = None


class AssociationMembership(MembershipV1):
    """A request to join as the association's admins and the Cell see it: who asked (name and city, never contact
    details); both empty once the person has deleted their account."""

    individual_name: str | None = None
    individual_city: str | None = None


class AssociationMembershipList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[AssociationMembership]


class IndividualPublicView(BaseModel):
    """A `public` person as anyone sees them: name, city and languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    name: str
    city: str
    languages: list[str]


class IndividualAssociationView(BaseModel):
    """A person as a verified association of their country sees them (or one they asked to join): no contact details."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]


class IndividualDetails(BaseModel):
    """Everything the registry holds on the person's profile, contact details included: for them and the Cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]
    visibility: Visibility
    email: str | None = None
    phone: str | None = None
    version: int
    registered_at: AwareDatetime
    updated_at: AwareDatetime


class IndividualFullView(IndividualDetails):
    """A person as they themself and the Cell see them: every detail and their memberships."""

    memberships: list[MembershipV1] = []


# What `get_individual` and the others answer: as much of the person as the caller may see.
IndividualView = IndividualFullView | IndividualAssociationView | IndividualPublicView


class AccountSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: str
    display_name: str
    created_at: AwareDatetime


class ExportedMembership(MembershipV1):
    association_name: str | None = None


class IndividualExport(BaseModel):
    """Everything the registry holds about a person, for them to keep."""

    model_config = ConfigDict(frozen=True)

    account: AccountSummary
    profile: IndividualDetails
    memberships: list[ExportedMembership]
    administers: list[UUID]


class AccountExport(BaseModel):
    """Everything the registry holds about an account, whether or not it has an individual profile."""

    model_config = ConfigDict(frozen=True)

    account: AccountSummary
    profile: IndividualDetails | None = None
    memberships: list[ExportedMembership] = []
    administers: list[UUID]


class VersionedIndividualProfile(BaseModel):
    """An individual as events show them (never contact details) with their record's version: `individuals_after`."""

    model_config = ConfigDict(frozen=True)

    individual: IndividualProfileV1
    version: int


class VersionedMembership(BaseModel):
    """A membership with its record's version (what `membership_changed.v1` carries as `aggregate_version`), anonymised
    ones (`individual_id` None) included: `memberships_after`."""

    model_config = ConfigDict(frozen=True)

    membership: MembershipV1
    version: int
