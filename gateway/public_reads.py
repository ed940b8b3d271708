"""The public view of an association, kept in the gateway so that an anonymous read costs no RPC.

Only a request without a session token is answered from here, and only with what the registry answered to a
request without a token: the Cell, an association's admins or anyone else signed in always ask the registry, so
a caller whose view may differ never gets a kept one, nor an anonymous caller a privileged one.

An entry is forgotten when the registry says the association changed (gateway/association_changes.py: every
association event), when a write to it passes through this gateway, when its verification falls due, and at the
latest `GATEWAY_PUBLIC_READ_CACHE_SECONDS` after the registry gave it. Nothing is served from here while the
listener for those events is not connected (at start, or after the broker connection broke): everything kept
until then is forgotten and each read goes to the registry. So an association that stops being public (hidden,
dissolved, merged, lapsed) is no longer served once its event has reached the gateway; SECURITY.md says so.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from nameko.extensions import DependencyProvider

from gateway.errors import json_text
from gateway.settings import GatewaySettings

Answer = dict  # as the registry gave it (JSON-able)


class PublicReadCache:
    """Answers by key, kept as the JSON text the gateway sends (gateway.errors.json_text: encoded once), each
    believed until its own expiry (monotonic seconds); at most `max_entries`, the least recently used go first. A
    read that was under way when an entry was forgotten does not keep its answer: it may have been made before the
    change that caused the forgetting."""

    def __init__(self, seconds: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self.serving = False  # set by the listener for association events while it is connected
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._forgettings = 0
        self._lock = threading.Lock()

    def read(self, key: str, load: Callable[[], Answer]) -> str:
        """The kept answer for `key` as JSON text, or `load()`'s, kept unless the key was forgotten while it loaded,
        and never past the answer's `verification_due_at`."""
        if not self.serving or self.seconds <= 0:
            return json_text(load())
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
            forgettings_before = self._forgettings
        answer = load()
        text = json_text(answer)
        self._keep(key, text, answer.get("verification_due_at"), forgettings_before)
        return text

    def forget(self, *keys: str | None) -> None:
        with self._lock:
            self._forgettings += 1
            for key in keys:
                self._entries.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._forgettings += 1
            self._entries.clear()

    def _keep(self, key: str, text: str, due_at: object, forgettings_before: int) -> None:
        seconds = min(self.seconds, _seconds_until(due_at))
        if seconds <= 0:
            return
        with self._lock:
            if self._forgettings != forgettings_before or not self.serving:
                return
            self._entries[key] = (self.clock() + seconds, text)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _seconds_until(moment: object) -> float:
    """Seconds from now to an ISO 8601 time (infinite when there is none)."""
    if not isinstance(moment, str):
        return float("inf")
    return (datetime.fromisoformat(moment) - datetime.now(UTC)).total_seconds()


def association_key(association_id: str | UUID) -> str | None:
    """One key for every spelling of the id (upper case, braces); None if it is not one."""
    try:
        return f"association:{UUID(str(association_id))}"
    except ValueError:
        return None


class PublicReads(DependencyProvider):
    """`self.public_reads` in a gateway worker: the PublicReadCache, kept fresh by AssociationChanges."""

    def setup(self) -> None:
        self.cache = PublicReadCache(GatewaySettings().public_read_cache_seconds)

    def get_dependency(self, worker_ctx) -> PublicReadCache:
        return self.cache
