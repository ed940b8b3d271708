"""Password hashes: argon2id through argon2-cffi, never logged, never returned."""

from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from contracts.errors import Unavailable

TOO_MANY_AT_ONCE = "Too many sign-ins at this moment; try again in a few seconds."


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
        self._hasher = hasher or PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
        self._offload = offload
        self._unknown_account_hash: str | None = None

    def hash(self, password: str) -> str:
        return self._offload(self._hasher.hash, password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password. Without an account (no hash) it takes as long, and is False."""
        if password_hash is None:
            self._verifies(self._stand_in_hash(), password)
            return False
        return self._verifies(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verifies(self, password_hash: str, password: str) -> bool:
        try:
            return self._offload(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _stand_in_hash(self) -> str:
        if self._unknown_account_hash is None:
            self._unknown_account_hash = self.hash("no account has this password")
        return self._unknown_account_hash
