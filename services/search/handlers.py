"""Search use cases. `unit_of_work` is a factory of units of work whose `index` is an AssociationIndex."""

import logging
from collections.abc import Callable

from contracts.events import AssociationRegisteredV1, AssociationUpdatedV1
from contracts.search import AssociationQuery, AssociationResults

log = logging.getLogger(__name__)


def index_association(*, unit_of_work: Callable, event: AssociationRegisteredV1 | AssociationUpdatedV1) -> bool:
    """An older version never overwrites a newer one, whatever order events arrive in."""
    with unit_of_work() as work:
        stored = work.index.upsert(event.association, version=event.aggregate_version)
    log.info(
        "%s association %s version %d",
        "indexed" if stored else "kept a newer version than",
        event.aggregate_id,
        event.aggregate_version,
    )
    return stored


def search_associations(*, unit_of_work: Callable, query: AssociationQuery) -> AssociationResults:
    with unit_of_work() as work:
        return work.index.search(query)
