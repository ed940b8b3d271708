"""The gateway keeps the registry's answer to an anonymous read for a few seconds; it forgets it when the association
changes, when its verification falls due, and keeps nothing while the association events are not heard."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from gateway.association_changes import forget_changed
from gateway.public_reads import PublicReadCache, association_key


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
