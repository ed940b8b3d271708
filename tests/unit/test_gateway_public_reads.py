"""The gateway keeps the registry's answer to an anonymous read, and search's answer to an anonymous association
search, for a few seconds; it forgets them when an association changes (a read also when its verification falls
due), and keeps nothing while the association events are not heard. Requests for an answer not kept that arrive
while it is being asked for wait for that one call."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import eventlet
import pytest

from contracts.errors import Unavailable
from gateway.association_changes import forget_changed
from gateway.public_reads import PublicReadCache, association_key, search_key


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingRegistry:
    """Answers with the association's current view and counts the reads it answered."""

    def __init__(self, association: dict):
        self.association = association
        self.reads = 0

    def get_association(self) -> dict:
        self.reads += 1
        return dict(self.association)


def association(**fields) -> dict:
    return {"id": str(uuid4()), "name": "Mizo Welfare Association Dubai", "status": "verified", **fields}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock) -> PublicReadCache:
    kept = PublicReadCache(2, clock=clock)
    kept.serving = True
    return kept


def test_an_answer_is_kept_for_its_seconds_and_asked_for_again_after(cache, clock):
    registry = CountingRegistry(association())
    key = association_key(registry.association["id"])

    answers = [cache.read(key, registry.get_association) for _ in range(3)]
    clock.now += 2
    cache.read(key, registry.get_association)

    assert [json.loads(answer) for answer in answers] == [registry.association] * 3
    assert registry.reads == 2


def test_an_association_event_forgets_the_association_and_the_one_a_merge_kept(cache):
    merged, kept = CountingRegistry(association()), CountingRegistry(association())
    keys = association_key(merged.association["id"]), association_key(kept.association["id"])
    cache.read(keys[0], merged.get_association)
    cache.read(keys[1], kept.get_association)

    merged.association["status"] = "merged"
    forget_changed(cache, {"aggregate_id": merged.association["id"], "kept_id": kept.association["id"]})

    assert json.loads(cache.read(keys[0], merged.get_association))["status"] == "merged"
    cache.read(keys[1], kept.get_association)
    assert (merged.reads, kept.reads) == (2, 2)


def test_a_read_under_way_when_its_association_changed_is_not_kept(cache):
    """Its answer may have been made before the change whose event came while it waited."""
    registry = CountingRegistry(association())
    key = association_key(registry.association["id"])

    def read_overtaken_by_a_change() -> dict:
        answer = registry.get_association()
        forget_changed(cache, {"aggregate_id": registry.association["id"]})
        return answer

    cache.read(key, read_overtaken_by_a_change)
    cache.read(key, registry.get_association)

    assert registry.reads == 2


def test_nothing_is_kept_or_served_while_the_events_are_not_heard(cache):
    registry = CountingRegistry(association())
    key = association_key(registry.association["id"])
    cache.read(key, registry.get_association)

    cache.serving = False
    cache.forget_all()
    for _ in range(2):
        cache.read(key, registry.get_association)

    assert registry.reads == 3


def test_an_answer_is_not_kept_past_its_verification_due_date(cache, clock):
    """Due in 1 s, kept for 2 s: after 1.5 s it is asked for again."""
    due_soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    registry = CountingRegistry(association(verification_due_at=due_soon))
    key = association_key(registry.association["id"])

    cache.read(key, registry.get_association)
    clock.now += 1.5
    cache.read(key, registry.get_association)

    assert registry.reads == 2


def test_every_spelling_of_an_id_is_one_key_and_what_is_not_an_id_has_none():
    association_id = uuid4()

    assert association_key(str(association_id).upper()) == association_key(association_id)
    assert association_key("{" + str(association_id) + "}") == association_key(association_id)
    assert association_key("not-an-id") is None


def test_a_cache_of_zero_seconds_asks_every_time(clock):
    cache = PublicReadCache(0, clock=clock)
    cache.serving = True
    registry = CountingRegistry(association())
    key = association_key(registry.association["id"])

    for _ in range(2):
        cache.read(key, registry.get_association)

    assert registry.reads == 2


def test_the_least_recently_read_go_first_past_the_limit(clock):
    cache = PublicReadCache(2, max_entries=2, clock=clock)
    cache.serving = True
    registries = [CountingRegistry(association()) for _ in range(3)]
    keys = [association_key(registry.association["id"]) for registry in registries]

    cache.read(keys[0], registries[0].get_association)
    cache.read(keys[1], registries[1].get_association)
    cache.read(keys[0], registries[0].get_association)
    cache.read(keys[2], registries[2].get_association)
    cache.read(keys[0], registries[0].get_association)
    cache.read(keys[1], registries[1].get_association)

    assert [registry.reads for registry in registries] == [1, 2, 1]


# Anonymous association searches, kept beside the associations' views: by the query the search RPC receives, a
# bounded number of them, all forgotten on any association event and while the events are not heard.


class CountingSearch:
    """Answers every query with the current results and counts the searches it answered."""

    def __init__(self):
        self.names = ["Mizo Welfare Association Dubai"]
        self.searches = 0

    def search_associations(self) -> dict:
        self.searches += 1
        return {"total": len(self.names), "items": [{"name": name} for name in self.names]}


def test_a_search_is_kept_for_the_seconds_by_its_query_in_any_order(cache, clock):
    search = CountingSearch()
    one_order = search_key({"q": "mizo", "country": ["AE"], "size": 20})
    other_order = search_key({"size": 20, "country": ["AE"], "q": "mizo"})

    answers = [cache.read(key, search.search_associations) for key in (one_order, other_order)]
    clock.now += 2
    cache.read(one_order, search.search_associations)

    assert one_order == other_order
    assert [json.loads(answer)["items"] for answer in answers] == [[{"name": "Mizo Welfare Association Dubai"}]] * 2
    assert search.searches == 2


def test_different_queries_are_kept_apart(cache):
    search = CountingSearch()

    cache.read(search_key({"q": "mizo"}), search.search_associations)
    cache.read(search_key({"q": "mizo", "page": 2}), search.search_associations)

    assert search.searches == 2


def test_any_association_event_forgets_every_kept_search(cache):
    """An event about an association no result showed can still change a result: a new one may match."""
    search = CountingSearch()
    keys = [search_key({"q": "mizo"}), search_key({"country": ["IN"]})]
    for key in keys:
        cache.read(key, search.search_associations)

    search.names.append("Mizo Association Bengaluru")
    forget_changed(cache, {"aggregate_id": str(uuid4())})

    assert [json.loads(cache.read(key, search.search_associations))["total"] for key in keys] == [2, 2]
    assert search.searches == 4


def test_an_event_that_cannot_be_read_still_forgets_the_searches(cache):
    search = CountingSearch()
    key = search_key({"q": "mizo"})
    cache.read(key, search.search_associations)

    forget_changed(cache, "not an event")
    cache.read(key, search.search_associations)

    assert search.searches == 2


def test_a_search_under_way_when_an_event_came_is_not_kept(cache):
    search = CountingSearch()
    key = search_key({"q": "mizo"})

    def search_overtaken_by_an_event() -> dict:
        answer = search.search_associations()
        forget_changed(cache, {"aggregate_id": str(uuid4())})
        return answer

    cache.read(key, search_overtaken_by_an_event)
    cache.read(key, search.search_associations)

    assert search.searches == 2


def test_no_search_is_kept_or_served_while_the_events_are_not_heard(cache):
    search = CountingSearch()
    key = search_key({"q": "mizo"})
    cache.read(key, search.search_associations)

    cache.serving = False
    cache.forget_all()
    for _ in range(2):
        cache.read(key, search.search_associations)

    assert search.searches == 3


def test_searches_are_bounded_apart_from_associations_the_least_recently_used_first(clock):
    cache = PublicReadCache(2, max_entries=1, max_searches=2, clock=clock)
    cache.serving = True
    search = CountingSearch()
    association = {"id": str(uuid4()), "name": "Mizo Welfare Association Dubai"}
    reads_of_the_association = []

    def read_association() -> dict:
        reads_of_the_association.append(1)
        return association

    cache.read(association_key(association["id"]), read_association)
    keys = [search_key({"q": text}) for text in ("mizo", "welfare", "dubai")]
    for key in (keys[0], keys[1], keys[0], keys[2], keys[0], keys[1]):
        cache.read(key, search.search_associations)
    cache.read(association_key(association["id"]), read_association)

    assert search.searches == 4  # "welfare" went first, being the least recently read when "dubai" came
    assert len(reads_of_the_association) == 1  # many searches never push an association out


def test_forgetting_an_association_keeps_the_searches(cache):
    """A write through this gateway forgets its association's view at once; the searches are forgotten when its
    event comes, as search hears that event too."""
    search = CountingSearch()
    key = search_key({"q": "mizo"})
    cache.read(key, search.search_associations)

    cache.forget(association_key(uuid4()))
    cache.read(key, search.search_associations)

    assert search.searches == 1


def test_a_search_begun_soon_after_an_event_is_answered_but_not_kept(cache, clock):
    """Search indexes the event a little after the gateway hears it: a search made meanwhile may not show it yet."""
    search = CountingSearch()
    key = search_key({"q": "mizo"})

    forget_changed(cache, {"aggregate_id": str(uuid4())})
    for _ in range(2):
        cache.read(key, search.search_associations)
    clock.now += cache.search_settle_seconds
    for _ in range(2):
        cache.read(key, search.search_associations)

    assert search.searches == 3


def test_searches_have_seconds_of_their_own(clock):
    cache = PublicReadCache(2, search_seconds=0, clock=clock)
    cache.serving = True
    search = CountingSearch()
    association = {"id": str(uuid4()), "name": "Mizo Welfare Association Dubai"}

    for _ in range(2):
        cache.read(search_key({"q": "mizo"}), search.search_associations)
        kept = cache.read(association_key(association["id"]), lambda: association)

    assert search.searches == 2
    assert json.loads(kept) == association


# Requests for a key that is not kept, arriving while its load is under way, wait for that one load.


class HeldSearch:
    """Counts the searches asked of it and answers none until `release()`, then each with its own results (named
    by its number) or the error of that moment."""

    def __init__(self):
        self.searches = 0
        self.error: Exception | None = None
        self.released = eventlet.Event()

    def search_associations(self) -> dict:
        self.searches += 1
        number = self.searches
        self.released.wait()
        if self.error is not None:
            raise self.error
        return {"total": 1, "items": [{"name": f"Mizo Welfare Association {number}"}]}

    def release(self) -> None:
        self.released.send(None)


def readers(cache: PublicReadCache, key: str, load, count: int) -> list[eventlet.greenthread.GreenThread]:
    """`count` requests reading `key` at once, each started and waiting by the time this returns."""
    started = [eventlet.spawn(cache.read, key, load) for _ in range(count)]
    eventlet.sleep(0)
    return started


def test_requests_missing_one_key_at_once_make_one_call_and_share_its_answer(cache):
    search = HeldSearch()
    key = search_key({"q": "mizo"})

    waiting = readers(cache, key, search.search_associations, 5)
    search.release()
    answers = [reader.wait() for reader in waiting]
    cache.read(key, search.search_associations)

    assert search.searches == 1
    assert [json.loads(answer)["items"] for answer in answers] == [[{"name": "Mizo Welfare Association 1"}]] * 5


def test_the_error_of_the_one_call_reaches_every_request_that_waited_for_it(cache):
    search = HeldSearch()
    search.error = Unavailable("the search service did not answer within 5 s")
    key = search_key({"q": "mizo"})

    waiting = readers(cache, key, search.search_associations, 4)
    search.release()
    errors = []
    for reader in waiting:
        with pytest.raises(Unavailable) as raised:
            reader.wait()
        errors.append(str(raised.value))
    search.error = None
    cache.read(key, search.search_associations)

    assert errors == ["the search service did not answer within 5 s"] * 4
    assert search.searches == 2  # the error was not kept


def test_the_answer_of_a_call_during_which_its_association_changed_is_given_to_its_waiters_but_not_kept(cache):
    """They asked before the change's event came, as they would have with calls of their own."""
    registry = HeldSearch()
    association_id = str(uuid4())
    key = association_key(association_id)

    waiting = readers(cache, key, registry.search_associations, 3)
    forget_changed(cache, {"aggregate_id": association_id})
    registry.release()
    answers = [json.loads(reader.wait())["items"][0]["name"] for reader in waiting]
    next_answer = json.loads(cache.read(key, registry.search_associations))["items"][0]["name"]

    assert answers == ["Mizo Welfare Association 1"] * 3
    assert next_answer == "Mizo Welfare Association 2"
    assert registry.searches == 2


def test_a_request_arriving_after_a_change_does_not_wait_for_the_call_begun_before_it(cache):
    registry = HeldSearch()
    association_id = str(uuid4())
    key = association_key(association_id)

    before_the_change = readers(cache, key, registry.search_associations, 2)
    forget_changed(cache, {"aggregate_id": association_id})
    after_the_change = readers(cache, key, registry.search_associations, 2)
    registry.release()
    answers = [json.loads(reader.wait())["items"][0]["name"] for reader in before_the_change + after_the_change]

    assert answers == ["Mizo Welfare Association 1"] * 2 + ["Mizo Welfare Association 2"] * 2
    assert registry.searches == 2


def test_a_search_begun_soon_after_an_event_is_not_shared_with_later_requests(cache):
    """It may not show the event yet (search indexes it a little later): each request searches for itself."""
    search = HeldSearch()
    key = search_key({"q": "mizo"})

    forget_changed(cache, {"aggregate_id": str(uuid4())})
    waiting = readers(cache, key, search.search_associations, 3)
    search.release()
    for reader in waiting:
        reader.wait()

    assert search.searches == 3


def test_a_request_waits_for_the_call_under_way_no_longer_than_the_rpc_timeout(clock):
    cache = PublicReadCache(2, wait_seconds=0.05, clock=clock)
    cache.serving = True
    search = HeldSearch()
    key = search_key({"q": "mizo"})

    first, second = readers(cache, key, search.search_associations, 2)
    with pytest.raises(Unavailable) as raised, eventlet.Timeout(10):  # a request that waits on would hang the test
        second.wait()
    search.release()
    first.wait()

    assert str(raised.value) == "the same read, asked for by another request, was not answered within 0.05 s"
    assert search.searches == 1


def test_requests_that_waited_for_a_request_ended_before_its_answer_make_their_own_call(cache):
    search = HeldSearch()
    key = search_key({"q": "mizo"})

    first, *others = readers(cache, key, search.search_associations, 3)
    first.kill()
    eventlet.sleep(0)
    search.release()
    answers = [json.loads(reader.wait())["total"] for reader in others]

    assert answers == [1, 1]
    assert search.searches == 3
