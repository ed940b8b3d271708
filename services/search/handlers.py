"""Search use cases. `unit_of_work` opens a unit of work whose `index` is the SearchIndex port."""

import logging
from collections.abc import Callable

from contracts.accounts import Principal
from contracts.errors import Unauthenticated
from contracts.events import AssociationEvent, IndividualDeletedV1, IndividualRegisteredV1, IndividualUpdatedV1
from contracts.search import (
    AssociationHit,
    AssociationQuery,
    AssociationResults,
    IndividualQuery,
    IndividualResults,
    NearbyQuery,
    Suggestions,
    SuggestQuery,
)
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import AssociationAudience, IndividualAudience

log = logging.getLogger(__name__)


def index_association(*, unit_of_work: Callable, event: AssociationEvent) -> bool:
    """Every association event carries the whole association; an older version never overwrites a newer one."""
    with unit_of_work() as work:
        stored = work.index.put_association(AssociationDocument.of(event.association), version=event.aggregate_version)
    log.info(
        "%s association %s version %d",
        "indexed" if stored else "kept a newer version than",
        event.aggregate_id,
        event.aggregate_version,
    )
    return stored


def index_individual(*, unit_of_work: Callable, event: IndividualRegisteredV1 | IndividualUpdatedV1) -> bool:
    with unit_of_work() as work:
        stored = work.index.put_individual(IndividualDocument.of(event.individual), version=event.aggregate_version)
    log.info(
        "%s individual %s version %d",
        "indexed" if stored else "kept a newer version than",
        event.aggregate_id,
        event.aggregate_version,
    )
    return stored


def remove_individual(*, unit_of_work: Callable, event: IndividualDeletedV1) -> bool:
    with unit_of_work() as work:
        removed = work.index.remove_individual(event.aggregate_id, version=event.aggregate_version)
    log.info(
        "%s individual %s version %d",
        "removed" if removed else "kept a newer version than",
        event.aggregate_id,
        event.aggregate_version,
    )
    return removed


def search_associations(
    *, unit_of_work: Callable, query: AssociationQuery, principal: Principal | None
) -> AssociationResults:
    public_only = AssociationAudience.of(principal).public_only(query)
    with unit_of_work() as work:
        return work.index.search_associations(query, public_only=public_only)


def suggest_associations(*, unit_of_work: Callable, query: SuggestQuery) -> Suggestions:
    with unit_of_work() as work:
        return work.index.suggest_associations(query)


def nearby_associations(*, unit_of_work: Callable, query: NearbyQuery) -> list[AssociationHit]:
    """Verified associations within the radius, nearest first, each with its distance."""
    search = AssociationQuery(
        near={"lat": query.lat, "lon": query.lon},
        radius_km=query.radius_km,
        category=query.categories,
        language=query.languages,
        sort="distance",
        size=query.limit,
    )
    with unit_of_work() as work:
        return work.index.search_associations(search, public_only=True).items


def search_individuals(
    *, unit_of_work: Callable, query: IndividualQuery, principal: Principal | None
) -> IndividualResults:
    if principal is None:
        raise Unauthenticated("sign in to search for people")
    with unit_of_work() as work:
        return work.index.search_individuals(query, IndividualAudience.of(principal))
