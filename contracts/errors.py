"""Errors that services raise on purpose; servicekit makes them cross RPC as the same class.

Each takes one human-readable message, because a remote exception is rebuilt
from its class path and its message alone.
"""


class DiasporaHubError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class NotFound(DiasporaHubError):
    code = "not_found"


class Conflict(DiasporaHubError):
    code = "conflict"


class Invalid(DiasporaHubError):
    code = "invalid"


class Unauthenticated(DiasporaHubError):
    """No valid session: sign in first."""

    code = "unauthenticated"


class Forbidden(DiasporaHubError):
    code = "forbidden"


class SecondFactorRequired(Unauthenticated):
    """The password was right, and the account (Cell staff) also signs in with a code from its authenticator app."""

    code = "second_factor_required"


class SecondFactorEnrolmentRequired(Forbidden):
    """A Cell staff session that may only set up the second factor: nothing else until it is confirmed."""

    code = "second_factor_enrolment_required"


class Unavailable(DiasporaHubError):
    code = "unavailable"


class TooManyAttempts(DiasporaHubError):
    """Too many failed attempts in a short time: wait, then try again."""

    code = "too_many_attempts"


EXPECTED_ERRORS = (
    NotFound,
    Conflict,
    Invalid,
    Unauthenticated,
    Forbidden,
    Unavailable,
    TooManyAttempts,
    SecondFactorRequired,
    SecondFactorEnrolmentRequired,
)
