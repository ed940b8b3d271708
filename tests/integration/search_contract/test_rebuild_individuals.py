"""Rebuilding the individual index beside the live one, then switching at once; removals survive the rebuild."""

from datetime import timedelta

import pytest

from contracts.search import IndividualQuery
from services.search.domain import REBUILD_LEASE, IndividualAudience, RebuildRunning
from tests.integration.search_contract.documents import association, individual

CELL = IndividualAudience(everyone=True)


def names(index, **query) -> list[str]:
    return [hit.name for hit in index.search_individuals(IndividualQuery(**query), CELL).items]


def test_the_live_index_answers_during_a_rebuild_and_the_rebuilt_one_replaces_it(index):
    kept, renamed, gone = individual("Kept"), individual("Old name"), individual("Gone from the registry")
    for document in (kept, renamed, gone):
        index.put_individual(document, version=1)

    index.begin_individual_rebuild()
    index.put_rebuilt_individuals([(kept, 1), (renamed.model_copy(update={"name": "New name"}), 2)])

    assert names(index) == ["Gone from the registry", "Kept", "Old name"]
    assert names(index, q="new") == []
    index.finish_individual_rebuild()
    assert names(index) == ["Kept", "New name"]
    assert names(index, q="new") == ["New name"]
    assert names(index, q="gone") == []
    assert index.individual_count() == 2


def test_events_during_a_rebuild_reach_the_rebuilt_index_whatever_the_order(index):
    early, late, leaving = individual("Early"), individual("Late"), individual("Leaving")
    index.put_individual(early, version=1)
    index.put_individual(leaving, version=1)

    index.begin_individual_rebuild()
    index.put_individual(late, version=1)
    index.put_individual(early.model_copy(update={"name": "Early, renamed"}), version=2)
    index.remove_individual(leaving.id, version=2)
    index.put_rebuilt_individuals([(early, 1), (leaving, 1)])
    index.finish_individual_rebuild()

    assert names(index) == ["Early, renamed", "Late"]


def test_a_removal_before_the_rebuild_still_keeps_an_older_event_out_after_it(index):
    removed = individual("Removed")
    index.put_individual(removed, version=1)
    index.remove_individual(removed.id, version=2)

    index.begin_individual_rebuild()
    index.finish_individual_rebuild()

    assert index.put_individual(removed, version=1) is False
    assert names(index) == []
    assert index.individual_count() == 0


def test_stored_individuals_give_back_each_document_and_its_version_but_not_the_removed(index):
    first, second, removed = individual("First", languages=["lus", "eng"]), individual("Second"), individual("Gone")
    index.put_individual(first, version=3)
    index.put_individual(second, version=1)
    index.put_individual(removed, version=1)
    index.remove_individual(removed.id, version=2)

    assert sorted(index.stored_individuals(), key=lambda pair: pair[0].name) == [(first, 3), (second, 1)]
    assert index.individual_count() == 2


def test_a_second_rebuild_of_individuals_is_refused_while_the_first_runs(index):
    index.begin_individual_rebuild()

    with pytest.raises(RebuildRunning, match="a rebuild of the individuals index is already under way"):
        index.begin_individual_rebuild()


def test_an_abandoned_rebuild_of_individuals_is_discarded_by_the_next(index, clock):
    index.put_individual(individual("Live"), version=1)
    index.begin_individual_rebuild()
    index.put_rebuilt_individuals([(individual("From the abandoned rebuild"), 1)])

    clock.advance(REBUILD_LEASE + timedelta(seconds=1))
    index.begin_individual_rebuild()
    index.put_rebuilt_individuals([(individual("From the second rebuild"), 1)])
    index.finish_individual_rebuild()

    assert names(index) == ["From the second rebuild"]
    assert names(index, q="abandoned") == []


def test_rebuilding_individuals_leaves_the_associations_alone_and_the_reverse(index):
    index.put_individual(individual("Person"), version=1)
    index.put_association(association("Association"), version=1)

    index.begin_rebuild()
    index.begin_individual_rebuild()
    index.put_rebuilt_individuals([(individual("Rebuilt person"), 1)])
    index.finish_individual_rebuild()

    assert names(index) == ["Rebuilt person"]
    assert index.association_count() == 1
    index.finish_rebuild()
    assert index.association_count() == 0
