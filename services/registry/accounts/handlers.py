"""Account use cases. Every other registry use case starts with `authenticate`.

`unit_of_work` is a factory of units of work whose `accounts` is the account repository (or a fake);
`passwords` hashes and verifies (passwords.Argon2Passwords); `now` is the caller's clock. Passwords are
hashed outside any transaction: a hash takes a tenth of a second, and a transaction should not wait on it.
Nothing here logs a token, a password or a hash.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from contracts.accounts import AccountV1, LogIn, PasswordChange, Principal, SessionToken, SignUp
from contracts.errors import (
    Conflict,
    Invalid,
    SecondFactorEnrolmentRequired,
    SecondFactorRequired,
    TooManyAttempts,
    Unauthenticated,
)
from services.registry.accounts import domain, second_factor
from services.registry.accounts.domain import SIGN_IN_FIRST, WRONG_CREDENTIALS, AccountPolicy, token_hash

__all__ = [
    "authenticate",
    "authenticate_if_signed_in",
    "change_password",
    "confirm_password",
    "log_in",
    "log_out",
    "sign_up",
    "token_hash",
    "whoami",
]

log = logging.getLogger(__name__)


def authenticate(*, work, token: str | None, now: datetime, enrolling: bool = False) -> Principal:
    """The principal behind a session token, inside the caller's unit of work. A Cell staff session opened before
    the second factor was set up is refused everywhere but in enrolment (`enrolling`)."""
    principal = work.accounts.principal_for_session(token_hash(token), now) if token else None
    if principal is None:
        raise Unauthenticated(SIGN_IN_FIRST)
    if principal.must_enrol_second_factor and not enrolling:
        raise SecondFactorEnrolmentRequired(second_factor.ENROL_FIRST)
    return principal


def authenticate_if_signed_in(*, work, token: str | None, now: datetime) -> Principal | None:
    """None for an anonymous caller; a token that is no longer valid is still refused, so the caller knows."""
    return None if token is None else authenticate(work=work, token=token, now=now)


def whoami(*, unit_of_work: Callable, token: str | None, now: datetime) -> Principal:
    with unit_of_work() as work:
        return authenticate(work=work, token=token, now=now)


def sign_up(
    *,
    unit_of_work: Callable,
    passwords,
    draft: SignUp,
    now: datetime,
    is_cell_staff: bool = False,
    policy: AccountPolicy | None = None,
    client_address: str | None = None,
) -> AccountV1:
    """Every sign-up from a client address counts against it, made or refused, before any hash is computed:
    past `policy.sign_up_limit` in a window the address waits (429), as a failed login would. A common password,
    or one containing the e-mail address's name, is refused (422)."""
    if client_address and policy is not None:
        key = domain.sign_up_key(client_address)
        with unit_of_work() as work:
            refuse_if_locked(work.accounts.throttles([key]), now)
        count_failures(unit_of_work, {key: policy.sign_up_limit}, policy, now)
    problem = domain.password_problem(draft.password, draft.email)
    if problem is not None:
        raise Invalid(problem)
    account = domain.new_account(
        email=draft.email,
        display_name=draft.display_name,
        password_hash=passwords.hash(draft.password),
        now=now,
        is_cell_staff=is_cell_staff,
    )
    with unit_of_work() as work:
        if work.accounts.get_by_email(account.email) is not None:
            raise Conflict("An account with this e-mail address already exists.")
        work.accounts.add(account)
    log.info("signed up account %s%s", account.id, " (cell_staff)" if is_cell_staff else "")
    return account.public()


def log_in(
    *,
    unit_of_work: Callable,
    passwords,
    policy: AccountPolicy,
    credentials: LogIn,
    client_address: str | None,
    now: datetime,
) -> SessionToken:
    """A new session, unless the e-mail or the client address is locked after too many failures.

    A wrong password and an unknown e-mail get one answer, and both count against the e-mail and the address.
    Cell staff with a second factor also give a code (the app's, or a recovery code): without one the answer is
    SecondFactorRequired; a wrong or used one counts as a failure like a wrong password. Cell staff without one get
    a session that may only enrol.
    """
    email = domain.normalized_email(credentials.email)
    limits = domain.throttle_limits(email=email, client_address=client_address, policy=policy)
    with unit_of_work() as work:
        refuse_if_locked(work.accounts.throttles(list(limits)), now)
        account = work.accounts.get_by_email(email)
    verified = passwords.verify(account.password_hash if account else None, credentials.password)
    if not verified:
        count_failures(unit_of_work, limits, policy, now)
        log.info("refused a sign-in: wrong e-mail address or password")
        raise Unauthenticated(WRONG_CREDENTIALS)
    if account.uses_second_factor and credentials.code is None:
        raise SecondFactorRequired(second_factor.CODE_NEEDED)
    rehashed = passwords.hash(credentials.password) if passwords.needs_rehash(account.password_hash) else None
    token, session = domain.open_session(
        account_id=account.id,
        now=now,
        policy=policy,
        is_cell_staff=account.is_cell_staff,
        must_enrol_second_factor=account.must_enrol_second_factor,
    )
    with unit_of_work() as work:
        # A failure counted meanwhile (another attempt at once) may have locked a key: the lock wins.
        refuse_if_locked(work.accounts.throttles(list(limits)), now)
        code_accepted = not account.uses_second_factor or spend_code(work.accounts, account, credentials.code, now)
        if code_accepted:
            work.accounts.clear_throttle(domain.login_key(email, client_address))
            work.accounts.delete_expired_sessions(account.id, now)
            work.accounts.add_session(session)
            if rehashed is not None:
                work.accounts.change_password(account.id, rehashed, account.password_changed_at)
    if not code_accepted:
        count_failures(unit_of_work, limits, policy, now)
        log.info("refused a sign-in of account %s: wrong or used second-factor code", account.id)
        raise Unauthenticated(second_factor.WRONG_CODE)
    log.info("opened a session for account %s", account.id)
    return SessionToken(
        token=token, expires_at=session.expires_at, must_enrol_second_factor=session.must_enrol_second_factor
    )


def spend_code(accounts, account: domain.Account, code: str, now: datetime) -> bool:
    """The authenticator app's code (a step not used before) or an unused recovery code, spent; False otherwise."""
    step = second_factor.matching_step(account.totp_secret, code, now)
    if step is not None:
        return accounts.claim_totp_step(account.id, step)
    return accounts.spend_recovery_code(account.id, second_factor.recovery_code_hash(code), now)


def log_out(*, unit_of_work: Callable, token: str | None, now: datetime) -> None:
    """Ends the session; ending one that has already ended (or never was) changes nothing."""
    if not token:
        return
    with unit_of_work() as work:
        work.accounts.revoke_session(token_hash(token), now)


def change_password(
    *,
    unit_of_work: Callable,
    passwords,
    policy: AccountPolicy,
    token: str | None,
    change: PasswordChange,
    now: datetime,
) -> None:
    """Needs the current password (failures count like failed logins); ends every other session of the account."""
    with unit_of_work() as work:
        principal = authenticate(work=work, token=token, now=now)
        account = work.accounts.get(principal.account_id)
        key = domain.account_key(account.email)
        refuse_if_locked(work.accounts.throttles([key]), now)
    if not passwords.verify(account.password_hash, change.current_password):
        count_failures(unit_of_work, {key: policy.account_failure_limit}, policy, now)
        raise Invalid("current_password: is not your current password")
    problem = domain.password_problem(change.new_password, account.email)
    if problem is not None:
        raise Invalid(problem.replace("password:", "new_password:", 1))
    new_hash = passwords.hash(change.new_password)
    with unit_of_work() as work:
        work.accounts.change_password(account.id, new_hash, now)
        work.accounts.revoke_sessions(account.id, now, keep_token_hash=token_hash(token))
    log.info("changed the password of account %s and ended its other sessions", account.id)


def confirm_password(
    *, unit_of_work: Callable, passwords, policy: AccountPolicy, account_id, password: str, now: datetime
) -> None:
    """The account's password, asked for again before what cannot be undone; failures count like failed logins.
    Call it outside a unit of work: it hashes."""
    with unit_of_work() as work:
        account = work.accounts.get(account_id)
        if account is None:
            raise Unauthenticated(SIGN_IN_FIRST)
        key = domain.account_key(account.email)
        refuse_if_locked(work.accounts.throttles([key]), now)
    if not passwords.verify(account.password_hash, password):
        count_failures(unit_of_work, {key: policy.account_failure_limit}, policy, now)
        raise Invalid("password: is not your password")


def refuse_if_locked(throttles: list[domain.Throttle], now: datetime) -> None:
    message = domain.lock_message(throttles, now)
    if message is not None:
        raise TooManyAttempts(message)


def count_failures(unit_of_work: Callable, limits: dict[str, int], policy: AccountPolicy, now: datetime) -> None:
    """Its own transaction, committed before the caller raises (a raise inside a unit of work rolls it back)."""
    with unit_of_work() as work:
        for key, limit in limits.items():
            throttle = work.accounts.throttle_for_update(key, now)
            work.accounts.save_throttle(throttle.after_failure(now, limit=limit, policy=policy))


def prune(*, unit_of_work: Callable, policy: AccountPolicy, now: datetime) -> int:
    """Sessions and login throttles that can no longer matter leave the database."""
    with unit_of_work() as work:
        return work.accounts.prune(now, failure_window=policy.failure_window)
