"""Cell staff set up their second factor, and renew their recovery codes.

Enrolment: `start_enrolment` gives a new secret and its otpauth URI (shown once); `confirm_enrolment` takes the
first code the app shows, turns the second factor on, lifts the enrolment-only limit from the session that
confirmed it, and gives the recovery codes (shown once). A wrong code counts against the account like a wrong
password, and locks it the same way.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from contracts.accounts import Principal, RecoveryCodes, SecondFactorCodeGiven, SecondFactorEnrolment
from contracts.errors import Conflict, Forbidden, Invalid
from services.registry.accounts import domain, second_factor
from services.registry.accounts.domain import AccountPolicy, token_hash
from services.registry.accounts.handlers import authenticate, count_failures, refuse_if_locked

log = logging.getLogger(__name__)

ONLY_CELL_STAFF = "Only Cell staff use a second factor."
ALREADY_ENROLLED = (
    "The second factor is already set up; new recovery codes: POST /api/v1/auth/second-factor/recovery-codes."
)
START_FIRST = "Start the enrolment first: POST /api/v1/auth/second-factor/enrolment."
NOT_THE_CODE = "code: is not the code your authenticator app shows now (or it has been used already)"


def _cell_staff(principal: Principal) -> None:
    if not principal.is_cell_staff:
        raise Forbidden(ONLY_CELL_STAFF)


def _replace_recovery_codes(accounts, account_id, now: datetime) -> list[str]:
    codes = second_factor.new_recovery_codes()
    accounts.replace_recovery_codes(account_id, [second_factor.recovery_code_hash(code) for code in codes], now)
    return codes


def start_enrolment(*, unit_of_work: Callable, token: str | None, now: datetime) -> SecondFactorEnrolment:
    """A new secret for the caller's account; starting again replaces one not yet confirmed."""
    with unit_of_work() as work:
        principal = authenticate(work=work, token=token, now=now, enrolling=True)
        _cell_staff(principal)
        account = work.accounts.get(principal.account_id)
        if account.uses_second_factor:
            raise Conflict(ALREADY_ENROLLED)
        secret = second_factor.new_secret()
        work.accounts.start_second_factor(account.id, secret)
    log.info("started a second-factor enrolment for account %s", account.id)
    return SecondFactorEnrolment(secret=secret, otpauth_uri=second_factor.otpauth_uri(secret, account.email))


def confirm_enrolment(
    *, unit_of_work: Callable, policy: AccountPolicy, token: str | None, given: SecondFactorCodeGiven, now: datetime
) -> RecoveryCodes:
    with unit_of_work() as work:
        principal = authenticate(work=work, token=token, now=now, enrolling=True)
        _cell_staff(principal)
        account = work.accounts.get(principal.account_id)
        if account.uses_second_factor:
            raise Conflict(ALREADY_ENROLLED)
        if account.totp_secret is None:
            raise Conflict(START_FIRST)
        key = domain.account_key(account.email)
        refuse_if_locked(work.accounts.throttles([key]), now)
        step = second_factor.matching_step(account.totp_secret, given.code, now)
        if step is not None:
            work.accounts.confirm_second_factor(account.id, step, now)
            codes = _replace_recovery_codes(work.accounts, account.id, now)
            work.accounts.end_enrolment_only(token_hash(token))
    if step is None:
        count_failures(unit_of_work, {key: policy.account_failure_limit}, policy, now)
        raise Invalid(NOT_THE_CODE)
    log.info("confirmed the second factor of account %s", account.id)
    return RecoveryCodes(recovery_codes=codes)


def renew_recovery_codes(
    *, unit_of_work: Callable, policy: AccountPolicy, token: str | None, given: SecondFactorCodeGiven, now: datetime
) -> RecoveryCodes:
    """New recovery codes, every earlier one void; asks for the app's current code (not a recovery code)."""
    with unit_of_work() as work:
        principal = authenticate(work=work, token=token, now=now)
        _cell_staff(principal)
        account = work.accounts.get(principal.account_id)
        if not account.uses_second_factor:
            raise Conflict(START_FIRST)
        key = domain.account_key(account.email)
        refuse_if_locked(work.accounts.throttles([key]), now)
        step = second_factor.matching_step(account.totp_secret, given.code, now)
        renewed = step is not None and work.accounts.claim_totp_step(account.id, step)
        if renewed:
            codes = _replace_recovery_codes(work.accounts, account.id, now)
    if not renewed:
        count_failures(unit_of_work, {key: policy.account_failure_limit}, policy, now)
        raise Invalid(NOT_THE_CODE)
    log.info("renewed the recovery codes of account %s", account.id)
    return RecoveryCodes(recovery_codes=codes)
