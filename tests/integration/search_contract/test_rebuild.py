"""Rebuilding the association index beside the live one, then switching at once; one rebuild at a time."""

from datetime import timedelta

import pytest

from contracts.search import AssociationQuery
from services.search.domain import REBUILD_LEASE, RebuildRunning
from tests.integration.search_contract.documents import association


def names(index) -> list[str]:
    return [hit.name for hit in index.search_associations(AssociationQuery(sort="name"), public_only=False).items]


def test_the_live_index_answers_during_a_rebuild_and_the_rebuilt_one_replaces_it(index):
    kept, renamed, gone = association("Kept"), association("Old name"), association("Gone from the registry")
    for document in (kept, renamed, gone):
        index.put_association(document, version=1)

    index.begin_rebuild()
    index.put_rebuilt_associations([(kept, 1), (renamed.model_copy(update={"name": "New name"}), 2)])

    assert names(index) == ["Gone from the registry", "Kept", "Old name"]
    index.finish_rebuild()
    assert names(index) == ["Kept", "New name"]
    assert index.association_count() == 2


def test_events_during_a_rebuild_reach_the_rebuilt_index_whatever_the_order(index):
    early, late = association("Early"), association("Late")
    index.put_association(early, version=1)

    index.begin_rebuild()
    index.put_association(late, version=1)
    index.put_association(early.model_copy(update={"name": "Early, renamed"}), version=2)
    index.put_rebuilt_associations([(early, 1)])
    index.finish_rebuild()

    assert names(index) == ["Early, renamed", "Late"]


def test_stored_associations_give_back_each_document_and_its_version(index):
    first, second = association("First", location={"lat": 1.5, "lon": -2.25}), association("Second")
    index.put_association(first, version=3)
    index.put_association(second, version=1)

    assert sorted(index.stored_associations(), key=lambda pair: pair[0].name) == [(first, 3), (second, 1)]


def test_a_removed_association_is_gone(index):
    document = association("Extra")
    index.put_association(document, version=1)

    index.remove_association(document.id)

    assert index.association_count() == 0


def test_a_second_rebuild_is_refused_while_the_first_keeps_writing(index, clock):
    index.put_association(association("Live"), version=1)
    index.begin_rebuild()
    clock.advance(REBUILD_LEASE - timedelta(minutes=1))
    index.put_rebuilt_associations([(association("Rebuilt"), 1)])
    clock.advance(REBUILD_LEASE - timedelta(minutes=1))

    with pytest.raises(RebuildRunning, match="a rebuild of the associations index is already under way"):
        index.begin_rebuild()

    index.finish_rebuild()
    assert names(index) == ["Rebuilt"]
    index.begin_rebuild()


def test_an_abandoned_rebuild_is_discarded_by_the_next(index, clock):
    index.put_association(association("Live"), version=1)
    index.begin_rebuild()
    index.put_rebuilt_associations([(association("From the abandoned rebuild"), 1)])

    clock.advance(REBUILD_LEASE + timedelta(seconds=1))
    index.begin_rebuild()
    index.put_rebuilt_associations([(association("From the second rebuild"), 1)])
    index.finish_rebuild()

    assert names(index) == ["From the second rebuild"]
