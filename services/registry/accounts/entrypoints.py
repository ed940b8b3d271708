"""The registry's account RPCs: parse, then hand to the handlers. Mixed into RegistryService."""

import logging
from datetime import UTC, datetime, timedelta

from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.timer import timer

from contracts.accounts import (
    AccountV1,
    LogIn,
    PasswordChange,
    Principal,
    RecoveryCodes,
    SecondFactorCodeGiven,
    SecondFactorEnrolment,
    SessionToken,
    SignUp,
)
from contracts.errors import EXPECTED_ERRORS
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from servicekit.shared import Shared
from services.registry.accounts import enrolment, handlers
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.passwords import Argon2Passwords, bounded
from services.registry.settings import RegistrySettings

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 3600
HASH_SLOT_WAIT_SECONDS = 2.0


def system_clock() -> datetime:
    return datetime.now(UTC)


def account_policy_from_settings() -> AccountPolicy:
    settings = RegistrySettings()
    return AccountPolicy(
        session_lifetime=timedelta(days=settings.session_days),
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
        cell_staff_session_lifetime=timedelta(hours=settings.cell_staff_session_hours),
        cell_staff_idle_timeout=timedelta(minutes=settings.cell_staff_idle_minutes),
        sign_up_limit=settings.sign_ups_per_address,
    )


def green_passwords() -> Argon2Passwords:
    """Hashes in eventlet's pool of OS threads: argon2 releases the GIL, so the process's other workers go on.
    At most REGISTRY_CONCURRENT_PASSWORD_HASHES run at once; one that waits too long for its turn is a 503."""
    settings = RegistrySettings()
    if settings.password_hashing != "rfc9106-low-memory":
        log.warning(
            "Passwords are hashed with the %r profile: new passwords can be guessed quickly from a copy of the "
            "database. Unset REGISTRY_PASSWORD_HASHING anywhere real people sign up.",
            settings.password_hashing,
        )
    slots = Semaphore(settings.concurrent_password_hashes)
    offload = bounded(tpool.execute, slots, wait_seconds=HASH_SLOT_WAIT_SECONDS)
    return Argon2Passwords.of_profile(settings.password_hashing, offload=offload)


class AccountEntrypoints:
    """Sign-up, login, logout, password change, and who a token belongs to.

    The service provides `unit_of_work` (with an `accounts` repository); tests give fakes of
    `passwords`, `account_policy` and `clock` to nameko's worker_factory. `clock` is the registry's one
    clock: every feature's entrypoints take the time from it.
    """

    passwords = Shared(green_passwords)
    account_policy = Shared(account_policy_from_settings)
    clock = Shared(lambda: system_clock)

    @timer(interval=PRUNE_EVERY_SECONDS)
    def prune_stale_sessions_and_throttles(self) -> None:
        pruned = handlers.prune(unit_of_work=self.unit_of_work, policy=self.account_policy, now=self.clock())
        log.info("pruned %d stale sessions and login throttles", pruned)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("draft.password",))
    def sign_up(self, draft: SignUp, client_address: str | None = None) -> AccountV1:
        return handlers.sign_up(
            unit_of_work=self.unit_of_work,
            passwords=self.passwords,
            draft=draft,
            now=self.clock(),
            policy=self.account_policy,
            client_address=client_address,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("credentials.password", "credentials.code"))
    def log_in(self, credentials: LogIn, client_address: str | None = None) -> SessionToken:
        return handlers.log_in(
            unit_of_work=self.unit_of_work,
            passwords=self.passwords,
            policy=self.account_policy,
            credentials=credentials,
            client_address=client_address,
            now=self.clock(),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def log_out(self, token: str | None) -> None:
        handlers.log_out(unit_of_work=self.unit_of_work, token=token, now=self.clock())

    @rpc_write(
        expected_exceptions=EXPECTED_ERRORS,
        sensitive_arguments=("token", "change.current_password", "change.new_password"),
    )
    def change_password(self, token: str | None, change: PasswordChange) -> None:
        handlers.change_password(
            unit_of_work=self.unit_of_work,
            passwords=self.passwords,
            policy=self.account_policy,
            token=token,
            change=change,
            now=self.clock(),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def whoami(self, token: str | None) -> Principal:
        return handlers.whoami(unit_of_work=self.unit_of_work, token=token, now=self.clock())

    @rpc_write(answer_holds_secrets=True, expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def start_second_factor_enrolment(self, token: str | None) -> SecondFactorEnrolment:
        return enrolment.start_enrolment(unit_of_work=self.unit_of_work, token=token, now=self.clock())

    @rpc_write(
        answer_holds_secrets=True, expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token", "given.code")
    )
    def confirm_second_factor(self, token: str | None, given: SecondFactorCodeGiven) -> RecoveryCodes:
        return enrolment.confirm_enrolment(
            unit_of_work=self.unit_of_work, policy=self.account_policy, token=token, given=given, now=self.clock()
        )

    @rpc_write(
        answer_holds_secrets=True, expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token", "given.code")
    )
    def renew_recovery_codes(self, token: str | None, given: SecondFactorCodeGiven) -> RecoveryCodes:
        return enrolment.renew_recovery_codes(
            unit_of_work=self.unit_of_work, policy=self.account_policy, token=token, given=given, now=self.clock()
        )
