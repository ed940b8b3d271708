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


# A code of the authenticator app (six digits) or a recovery code (`abcde-fghij`); spaces and dashes are ignored.
SecondFactorCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=20)]


class LogIn(BaseModel):
    """Cell staff who have set up their second factor also send `code`: their authenticator app's current code, or
    one of their recovery codes. Other accounts leave it out (it is ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailStr
    password: GivenPassword = Field(repr=False)
    code: SecondFactorCode | None = Field(default=None, repr=False)


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
    # A Cell staff session opened before the second factor is set up: it may only enrol (/api/v1/auth/second-factor).
    must_enrol_second_factor: bool = False


class SecondFactorEnrolment(BaseModel):
    """A new authenticator secret, shown once: type `secret` into the app or open `otpauth_uri` (as a QR code)."""

    model_config = ConfigDict(frozen=True)

    secret: str = Field(repr=False)
    otpauth_uri: str = Field(repr=False)


class SecondFactorCodeGiven(BaseModel):
    """The code the authenticator app shows now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: SecondFactorCode = Field(repr=False)


class RecoveryCodes(BaseModel):
    """Shown once: each signs in once in place of the app's code. New ones replace every earlier one."""

    model_config = ConfigDict(frozen=True)

    recovery_codes: list[str] = Field(repr=False)


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
    # Cell staff signed in before setting up their second factor: the registry lets such a session only enrol.
    must_enrol_second_factor: bool = False


class TrustedPrincipal(Principal):
    """A Principal as a service takes it from a trusted caller (the gateway, which had it from the registry and
    validated it as a Principal): the e-mail address is taken as sent, already checked and normalised, since
    checking it again (email_validator) cost about 30 µs of every call. Every other field is validated as before."""

    email: str
