"""The public view of an association, and anonymous association searches, kept in the gateway so that an anonymous
read costs no RPC.

Only a request without a session token is answered from here, and only with what the registry (or search) answered
to a request without a token: the Cell, an association's admins or anyone else signed in always ask, so a caller
whose view may differ never gets a kept one, nor an anonymous caller a privileged one.

An association's entry is forgotten when the registry says the association changed (gateway/association_changes.py:
every association event), when a write to it passes through this gateway, when its verification falls due, and at
the latest `GATEWAY_PUBLIC_READ_CACHE_SECONDS` after the registry gave it. Searches are keyed by what the search RPC
receives (search_key), all forgotten on every association event (any change can change any result), and kept at
most `GATEWAY_PUBLIC_SEARCH_CACHE_SECONDS`. Search indexes an event a little after the gateway hears it, so a search
begun within SEARCH_SETTLE_SECONDS of an event is not kept; but when search lags longer (restarted with a backlog,
an index repaired without events) or hides a lapsed association by its own clock (a hit does not show the due
date), only those seconds end a kept search.

A missing or expired key is loaded once however many requests ask for it meanwhile: those arriving while its load is
under way wait for that one call (at most the RPC timeout) and get its answer or its error, as they would have got
their own. A request joins a call only while that call's answer could still be kept (no entry forgotten since it
began, and for a search not begun within SEARCH_SETTLE_SECONDS of an event); otherwise it makes a call of its own.

Nothing is served from here while the listener for those events is not connected (at start, or after the broker
connection broke): everything kept until then is forgotten and each read goes to the registry or search. So an
association that stops being public (hidden, dissolved, merged, lapsed) is no longer served once its event has
reached the gateway (and, in a search, once search has it too); SECURITY.md says so.
"""

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import eventlet
from nameko.extensions import DependencyProvider

from contracts.errors import Unavailable
from gateway.errors import json_text
from gateway.settings import GatewaySettings
from servicekit.settings import BusSettings

Answer = dict  # as the registry or search gave it (JSON-able)
SEARCH_PREFIX = "search:"
# Search hears the same association events as the gateway and indexes each a little later (normally tens of
# milliseconds): a search begun within this long after an event is answered but not kept, as it may not show the
# change yet; kept, it would show the old result for the cache's seconds.
SEARCH_SETTLE_SECONDS = 1.0


@dataclass(eq=False)
class LoadUnderWay:
    """One load of a key, begun at `started` when `forgettings` entries had been forgotten, that later requests for
    the key wait for. `done` is sent the JSON text, the error with its traceback, or nothing (the loading request
    was ended before its answer came)."""

    forgettings: int
    started: float
    done: eventlet.Event = field(default_factory=eventlet.Event)

    def answered(self, text: str) -> None:
        self.done.send(("answered", text, None))

    def failed(self, error: Exception) -> None:
        self.done.send(("failed", error, error.__traceback__))

    def abandoned(self) -> None:
        self.done.send(("abandoned", None, None))


class PublicReadCache:
    """Answers by key, kept as the JSON text the gateway sends (gateway.errors.json_text: encoded once), each
    believed until its own expiry (monotonic seconds); at most `max_entries` associations and `max_searches`
    searches (search_key), each kind bounded apart so that many distinct searches cannot push the associations out;
    the least recently used go first. A read that was under way when an entry was forgotten does not keep its
    answer: it may have been made before the change that caused the forgetting. Requests for a key whose load is
    under way wait for it, each at most `wait_seconds` (the RPC timeout)."""

    def __init__(
        self,
        seconds: float,
        *,
        max_entries: int = 10_000,
        max_searches: int = 1_000,
        search_seconds: float | None = None,
        search_settle_seconds: float = SEARCH_SETTLE_SECONDS,
        wait_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.seconds = seconds
        self.max_entries = max_entries
        self.max_searches = max_searches
        self.search_seconds = seconds if search_seconds is None else search_seconds
        self.search_settle_seconds = search_settle_seconds
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.serving = False  # set by the listener for association events while it is connected
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._searches: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._searches_settle_at = float("-inf")  # a search begun before then is not kept
        self._forgettings = 0
        self._loads: dict[str, LoadUnderWay] = {}
        self._lock = threading.Lock()

    def read(self, key: str, load: Callable[[], Answer]) -> str:
        """The kept answer for `key` as JSON text, else the answer of the load of it under way, else `load()`'s,
        kept unless an entry was forgotten while it loaded, and never past the answer's `verification_due_at`."""
        entries, _, seconds = self._kind_of(key)
        if not self.serving or seconds <= 0:
            return json_text(load())
        now = self.clock()
        with self._lock:
            entry = entries.get(key)
            if entry is not None and entry[0] > now:
                entries.move_to_end(key)
                return entry[1]
            under_way = self._loads.get(key)
            shared = under_way is not None and self._may_share(under_way, entries)
            if not shared:
                under_way = self._loads[key] = LoadUnderWay(self._forgettings, now)
        if shared:
            return self._wait_for(under_way, load)
        return self._load(key, under_way, load)

    def _load(self, key: str, mine: LoadUnderWay, load: Callable[[], Answer]) -> str:
        """`load()`'s answer, kept as its rules allow and handed to the requests that waited for it."""
        try:
            answer = load()
            text = json_text(answer)
            self._keep(key, text, answer.get("verification_due_at"), mine.forgettings, mine.started)
        except Exception as error:
            self._end_load(key, mine)
            mine.failed(error)
            raise
        except BaseException:  # this request was ended (its greenthread killed): the waiters load for themselves
            self._end_load(key, mine)
            mine.abandoned()
            raise
        self._end_load(key, mine)
        mine.answered(text)
        return text

    def _end_load(self, key: str, load: LoadUnderWay) -> None:
        with self._lock:
            if self._loads.get(key) is load:
                del self._loads[key]

    def _wait_for(self, under_way: LoadUnderWay, load: Callable[[], Answer]) -> str:
        """The answer of the load under way, its error raised here, or `load()`'s if its request was ended."""
        outcome = under_way.done.wait(self.wait_seconds)
        if outcome is None:
            raise Unavailable(
                f"the same read, asked for by another request, was not answered within {self.wait_seconds:g} s"
            )
        how, value, traceback = outcome
        if how == "answered":
            return value
        if how == "failed":
            raise value.with_traceback(traceback)
        return json_text(load())

    def _may_share(self, under_way: LoadUnderWay, entries: OrderedDict) -> bool:
        """Whether a load's answer may be given to a request that comes while it is under way: only while it could
        still be kept, i.e. nothing was forgotten since it began, and a search did not begin while settling."""
        if under_way.forgettings != self._forgettings:
            return False
        return entries is not self._searches or under_way.started >= self._searches_settle_at

    def forget(self, *keys: str | None) -> None:
        with self._lock:
            self._forgettings += 1
            for key in keys:
                if key is not None:
                    self._kind_of(key)[0].pop(key, None)

    def forget_searches(self) -> None:
        with self._lock:
            self._forget_searches()

    def forget_all(self) -> None:
        with self._lock:
            self._forget_searches()
            self._entries.clear()

    def _forget_searches(self) -> None:
        self._forgettings += 1
        self._searches.clear()
        self._searches_settle_at = self.clock() + self.search_settle_seconds

    def _keep(self, key: str, text: str, due_at: object, forgettings_before: int, started: float) -> None:
        entries, max_entries, kept_seconds = self._kind_of(key)
        seconds = min(kept_seconds, _seconds_until(due_at))
        if seconds <= 0:
            return
        with self._lock:
            if self._forgettings != forgettings_before or not self.serving:
                return
            if entries is self._searches and started < self._searches_settle_at:
                return
            entries[key] = (self.clock() + seconds, text)
            entries.move_to_end(key)
            while len(entries) > max_entries:
                entries.popitem(last=False)

    def _kind_of(self, key: str) -> tuple[OrderedDict[str, tuple[float, str]], int, float]:
        """The entries of the key's kind, how many of them may be kept, and for how long."""
        if key.startswith(SEARCH_PREFIX):
            return self._searches, self.max_searches, self.search_seconds
        return self._entries, self.max_entries, self.seconds


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


def search_key(query: Answer) -> str:
    """One key per search as the search RPC receives it (the parsed query, defaults left out), in any order."""
    return SEARCH_PREFIX + json.dumps(query, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class PublicReads(DependencyProvider):
    """`self.public_reads` in a gateway worker: the PublicReadCache, kept fresh by AssociationChanges."""

    def setup(self) -> None:
        settings = GatewaySettings()
        self.cache = PublicReadCache(
            settings.public_read_cache_seconds,
            search_seconds=settings.public_search_cache_seconds,
            wait_seconds=BusSettings().rpc_timeout_seconds,
        )

    def get_dependency(self, worker_ctx) -> PublicReadCache:
        return self.cache
