"""Who lives where, for advisories: a projection of the registry's individual events, and each person's choice to
receive advisories (made here: the registry holds no such consent)."""

from collections.abc import Callable
from uuid import UUID

from contracts.accounts import Principal
from contracts.advisories import AdvisorySubscription, AdvisorySubscriptionV1
from contracts.associations import Location
from contracts.errors import NotFound
from contracts.events import IndividualDeletedV1, IndividualEvent
from contracts.individuals import IndividualProfileV1, VersionedIndividualProfile
from servicekit.paging import pages_after
from services.alerts.advisories.domain import Person

LocateCity = Callable[[str, str], Location | None]
REBUILD_PAGE = 500


def _person(profile: IndividualProfileV1, locate_city: LocateCity) -> Person:
    place = locate_city(profile.city, profile.country)
    return Person(
        id=profile.id,
        country=profile.country,
        city=profile.city,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        association_ids=frozenset(profile.association_ids),
    )


def project_individual(*, unit_of_work: Callable, event: IndividualEvent, locate_city: LocateCity) -> bool:
    """Keep where the person lives (their city, placed by the gazetteer) and their accepted memberships."""
    with unit_of_work() as work:
        if isinstance(event, IndividualDeletedV1):
            work.advisory_people.forget(event.aggregate_id)
            return True
        return work.advisory_people.project(_person(event.individual, locate_city), version=event.aggregate_version)


def rebuild(
    *, unit_of_work: Callable, individuals_after: Callable[[str | None, int], list], locate_city: LocateCity
) -> int:
    """Page through the registry's individuals (those registered before alerts ran, or after a restore); newer
    versions replace older ones, so events arriving meanwhile are not undone, and choices stay."""
    count = 0
    parse = VersionedIndividualProfile.model_validate
    for page in pages_after(individuals_after, parse, key=lambda item: item.individual.id, size=REBUILD_PAGE):
        with unit_of_work() as work:
            for item in page:
                work.advisory_people.project(_person(item.individual, locate_city), version=item.version)
        count += len(page)
    return count


def _own_profile(principal: Principal) -> UUID:
    if principal.individual_id is None:
        raise NotFound("you have no profile: advisories are sent for where a person lives (POST /api/v1/individuals)")
    return principal.individual_id


def _choice(individual_id: UUID, person: Person | None) -> AdvisorySubscriptionV1:
    known = person is not None and person.country != ""
    return AdvisorySubscriptionV1(
        individual_id=individual_id,
        receive=person is not None and person.receives_advisories,
        country=person.country if known else None,
        city=person.city if known else None,
    )


def choose(*, unit_of_work: Callable, principal: Principal, choice: AdvisorySubscription) -> AdvisorySubscriptionV1:
    individual_id = _own_profile(principal)
    with unit_of_work() as work:
        work.advisory_people.choose(individual_id, receive=choice.receive)
        return _choice(individual_id, work.advisory_people.get(individual_id))


def choice_of(*, unit_of_work: Callable, principal: Principal) -> AdvisorySubscriptionV1:
    individual_id = _own_profile(principal)
    with unit_of_work() as work:
        return _choice(individual_id, work.advisory_people.get(individual_id))
