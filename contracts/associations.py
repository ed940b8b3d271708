"""Association payloads shared by the registry, search and the gateway."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from contracts.codes import country_code, language_code

CountryCode = Annotated[str, AfterValidator(country_code)]
LanguageCode = Annotated[str, AfterValidator(language_code)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AssociationStatus = Literal["pending", "verified", "rejected", "suspended", "dissolved"]


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))


class AssociationDraft(BaseModel):
    """What someone sends to register an association."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    country: CountryCode
    city: ShortText
    languages: Annotated[list[LanguageCode], Field(min_length=1, max_length=20), AfterValidator(_unique)]
    email: EmailStr
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""


class AssociationV1(AssociationDraft):
    """An association as the registry holds it."""

    id: UUID
    status: AssociationStatus
    version: int
    registered_at: AwareDatetime
    updated_at: AwareDatetime


class AssociationCreated(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    status: AssociationStatus
    registered_at: datetime
