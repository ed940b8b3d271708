"""Password hashes: argon2id through argon2-cffi, never logged, never returned."""

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from argon2 import PasswordHasher, extract_parameters, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from contracts.errors import Unavailable

TOO_MANY_AT_ONCE = "Too many sign-ins at this moment; try again in a few seconds."

HashingProfile = Literal["rfc9106-low-memory", "fast-for-tests-only"]
HASHING_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    # 8 KiB and one pass: microseconds instead of about 0.2 s of CPU a hash, for the test suite's systems, which
    # sign up and log in hundreds of people. Useless against a stolen database: never for real accounts.
    "fast-for-tests-only": dataclasses.replace(profiles.RFC_9106_LOW_MEMORY, time_cost=1, memory_cost=8, parallelism=1),
}


def _in_this_thread(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


def bounded(offload: Callable[..., Any], slots, *, wait_seconds: float) -> Callable[..., Any]:
    """`offload`, with at most as many hashes at once as `slots` (a semaphore) allows: each takes 64 MiB.

    A hash that finds no free slot within `wait_seconds` is refused with Unavailable (503), so that a burst
    of sign-ups or logins cannot exhaust the process's memory.
    """

    def run(function: Callable[..., Any], *args: Any) -> Any:
        if not slots.acquire(timeout=wait_seconds):
            raise Unavailable(TOO_MANY_AT_ONCE)
        try:
            return offload(function, *args)
        finally:
            slots.release()

    return run


class Argon2Passwords:
    """argon2id with RFC 9106's low-memory parameters (64 MiB, 3 passes, about 0.1 s a hash).

    `offload` runs each hash elsewhere: the registry passes eventlet's thread pool so that a
    login does not stop every other worker of the process while it hashes.
    """

    def __init__(
        self,
        hasher: PasswordHasher | None = None,
        *,
        offload: Callable[..., Any] = _in_this_thread,
    ):
        self._hasher = hasher or PasswordHasher.from_parameters(HASHING_PROFILES["rfc9106-low-memory"])
        self._offload = offload
        self._unknown_account_hash: str | None = None

    @classmethod
    def of_profile(cls, profile: HashingProfile, **options: Any) -> "Argon2Passwords":
        return cls(PasswordHasher.from_parameters(HASHING_PROFILES[profile]), **options)

    def hash(self, password: str) -> str:
        return self._offload(self._hasher.hash, password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password. Without an account (no hash) it takes as long, and is False."""
        if password_hash is None:
            self._verifies(self._stand_in_hash(), password)
            return False
        return self._verifies(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Only ever towards stronger parameters: a registry started with weaker ones by mistake leaves stronger
        hashes as they are, and once it runs with the default again, each weak hash is replaced at its login."""
        if not self._hasher.check_needs_rehash(password_hash):
            return False
        stored, current = extract_parameters(password_hash), self._hasher
        return stored.time_cost <= current.time_cost and stored.memory_cost <= current.memory_cost

    def _verifies(self, password_hash: str, password: str) -> bool:
        try:
            return self._offload(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _stand_in_hash(self) -> str:
        if self._unknown_account_hash is None:
            self._unknown_account_hash = self.hash("no account has this password")
        return self._unknown_account_hash
