"""Cell staff's second factor in plain Python: TOTP codes (RFC 6238, through pyotp) and one-time recovery codes.

A code is accepted for the current 30-second step and the one on either side (clocks drift), and only for a step
later than the last one accepted: a code seen over someone's shoulder, or replayed, is refused.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

ISSUER = "DiasporaHub"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_CODE_HALF = 5  # two groups of five: 10 characters, about 49 random bits
TOTP_DIGITS = 6
ACCEPTED_DRIFT_STEPS = 1

CODE_NEEDED = (
    "This account also signs in with a code: send the six digits your authenticator app shows now as `code` "
    "(or one of your recovery codes)."
)
WRONG_CODE = "The code is not right, or has been used already: wait for the next one and try again."
ENROL_FIRST = (
    "Cell staff set up a second factor before anything else: POST /api/v1/auth/second-factor/enrolment, "
    "then confirm it with a first code at POST /api/v1/auth/second-factor/confirmation."
)


def new_secret() -> str:
    return pyotp.random_base32()


def otpauth_uri(secret: str, email: str) -> str:
    """What an authenticator app reads (typed in, or from a QR code): the account's e-mail under DiasporaHub."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _compact(code: str) -> str:
    return "".join(character for character in code.lower() if character.isalnum())


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (30-second counter) whose code `code` is, within the accepted drift; None if none is."""
    digits = _compact(code)
    if len(digits) != TOTP_DIGITS or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(now)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """`abcde-fghij`, shown once to the person; the registry keeps only recovery_code_hash of each."""

    def half() -> str:
        return "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_HALF))

    return [f"{half()}-{half()}" for _ in range(RECOVERY_CODE_COUNT)]


def recovery_code_hash(code: str) -> str:
    """sha256 of the code without case, spaces or dashes: random enough that no slow hash is needed."""
    return hashlib.sha256(_compact(code).encode()).hexdigest()
