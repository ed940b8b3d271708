"""Accounts, sessions and who is asking.

Passwords and tokens are left out of every model's repr, so that logging a payload never shows them.
"""

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def _long_enough(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


Password = Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH), AfterValidator(_long_enough)]
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailStr
    password: Password = Field(repr=False)
    display_name: DisplayName


class LogIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailStr
    password: GivenPassword = Field(repr=False)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    current_password: GivenPassword = Field(repr=False)
    new_password: Password = Field(repr=False)


class PasswordConfirmation(BaseModel):
    """The password asked for again before something that cannot be undone (deleting one's account)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    password: GivenPassword = Field(repr=False)


class SessionToken(BaseModel):
    """The token is shown once, at login; the registry keeps only its sha256."""

    model_config = ConfigDict(frozen=True)

    token: str = Field(repr=False)
    expires_at: AwareDatetime


class AccountV1(BaseModel):
    """An account as others may see it: never its password hash."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    email: EmailStr
    display_name: str
    is_cell_staff: bool = False
    created_at: AwareDatetime


class AdministeredAssociation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    country: str
    verified: bool


class Principal(BaseModel):
    """Who is asking, as the registry knows them; services decide what each may see from this."""

    model_config = ConfigDict(frozen=True)

    account_id: UUID
    email: EmailStr
    display_name: str
    is_cell_staff: bool = False
    administers: list[AdministeredAssociation] = []
    individual_id: UUID | None = None
