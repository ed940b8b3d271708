"""Search queries and results."""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.associations import AssociationStatus, CountryCode, LanguageCode


class AssociationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    country: CountryCode | None = None
    language: LanguageCode | None = None
    page: int = Field(default=1, ge=1, le=1000)
    size: int = Field(default=20, ge=1, le=100)


class AssociationHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]
    status: AssociationStatus


class AssociationResults(BaseModel):
    model_config = ConfigDict(frozen=True)

    total: int
    items: list[AssociationHit]
