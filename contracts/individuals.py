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
