"""Individual and membership use cases."""

from collections.abc import Callable
from uuid import UUID

from contracts.errors import Conflict, Forbidden, NotFound
from contracts.individuals import IndividualDraft, IndividualPatch, IndividualProfileV1
from servicekit.sqltypes import utcnow
from services.registry.accounts.handlers import authenticate, authenticate_if_signed_in
from services.registry.authorization import is_admin_of, is_public
from services.registry.individuals import domain


def _not_found(individual_id: UUID) -> NotFound:
    return NotFound(f"there is no individual with id {individual_id}")


def _own_profile(work, actor, individual_id: UUID) -> dict:
    """Only the person themself may change, export or delete their profile."""
    profile = work.individuals.get(individual_id)
    if profile is None or actor.individual_id != individual_id:
        raise _not_found(individual_id)
    return profile


def _visible_view(work, actor, profile: dict) -> dict:
    memberships = work.individuals.memberships_of(profile["id"])
    # A request the association has declined (or the person withdrew) no longer shows them to its admins.
    asked = {membership.association_id for membership in memberships if membership.status in {"requested", "accepted"}}
    fields = domain.audience_fields(actor, profile, membership_association_ids=asked)
    if fields is None:
        raise _not_found(profile["id"])
    view = {field: profile[field] for field in fields if field not in {"account_id"}}
    if "email" in fields:
        view["memberships"] = [membership.model_dump(mode="json") for membership in memberships]
    return view


def _requestable_association(work, association_id: UUID):
    association = work.associations.get(association_id)
    if association is None or not is_public(association):
        raise NotFound(f"there is no verified association with id {association_id}")
    return association


def register_individual(*, unit_of_work: Callable, token: str | None, draft: IndividualDraft) -> dict:
    now = utcnow()
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        if work.individuals.of_account(actor.account_id) is not None:
            raise Conflict("this account already has an individual profile; change it instead")
        profile = domain.new_profile(draft, account_id=actor.account_id, now=now)
        work.individuals.add(profile)
        work.add_event(domain.registered_event(profile, [], now))
        for association_id in dict.fromkeys(draft.membership_requests):  # one request per association
            _requestable_association(work, association_id)
            membership = domain.new_membership(profile["id"], association_id, now)
            work.individuals.add_membership(membership)
            work.add_event(domain.membership_event(membership, 1, profile, [], now))
        actor = actor.model_copy(update={"individual_id": profile["id"]})
        return _visible_view(work, actor, profile)


def get_individual(*, unit_of_work: Callable, token: str | None, individual_id: UUID) -> dict:
    with unit_of_work() as work:
        actor = authenticate_if_signed_in(work=work, token=token)
        profile = work.individuals.get(individual_id)
        if profile is None:
            raise _not_found(individual_id)
        return _visible_view(work, actor, profile)


def update_individual(
    *, unit_of_work: Callable, token: str | None, individual_id: UUID, patch: IndividualPatch
) -> dict:
    now = utcnow()
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        profile = _own_profile(work, actor, individual_id)
        updated = domain.edited_profile(profile, patch, now=now)
        if updated is not None:
            work.individuals.save(updated)
            association_ids = work.individuals.accepted_association_ids(individual_id)
            work.add_event(domain.updated_event(updated, association_ids, now))
            profile = updated
        return _visible_view(work, actor, profile)


def delete_individual(*, unit_of_work: Callable, token: str | None, individual_id: UUID) -> None:
    """The person's data and account are removed; their memberships stay, anonymised."""
    now = utcnow()
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        profile = _own_profile(work, actor, individual_id)
        work.individuals.delete_with_account(profile)
        work.add_event(domain.deleted_event(profile, now))


def export_individual(*, unit_of_work: Callable, token: str | None, individual_id: UUID) -> dict:
    """Everything the registry holds about the person, for them to keep."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        profile = _own_profile(work, actor, individual_id)
        memberships = work.individuals.memberships_of(individual_id)
        names = work.individuals.association_names([membership.association_id for membership in memberships])
        return {
            "account": work.individuals.account_summary(actor.account_id),
            "profile": {field: value for field, value in profile.items() if field != "account_id"},
            "memberships": [
                membership.model_dump() | {"association_name": names.get(membership.association_id)}
                for membership in memberships
            ],
            "administers": [item.id for item in actor.administers],
        }


def request_membership(*, unit_of_work: Callable, token: str | None, association_id: UUID) -> dict:
    now = utcnow()
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        if actor.individual_id is None:
            raise Conflict("register as an individual before asking to join an association")
        _requestable_association(work, association_id)
        if any(
            membership.association_id == association_id and membership.status in {"requested", "accepted"}
            for membership in work.individuals.memberships_of(actor.individual_id)
        ):
            raise Conflict("you have already asked to join, or are a member of, this association")
        profile = work.individuals.get(actor.individual_id)
        membership = domain.new_membership(actor.individual_id, association_id, now)
        work.individuals.add_membership(membership)
        association_ids = work.individuals.accepted_association_ids(actor.individual_id)
        work.add_event(domain.membership_event(membership, 1, profile, association_ids, now))
        return membership.model_dump(mode="json")


def decide_membership(*, unit_of_work: Callable, token: str | None, membership_id: UUID, decision: str) -> dict:
    """An admin of the association accepts or declines; an accepted member appears with it in search."""
    now = utcnow()
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token)
        found = work.individuals.membership(membership_id)
        if found is None or not (actor.is_cell_staff or is_admin_of(actor, found[0].association_id)):
            raise NotFound(f"there is no membership request with id {membership_id}")
        if found[0].individual_id is None:
            raise Forbidden("this person has deleted their account")
        membership = domain.decide_membership(found[0], decision, now)
        version = work.individuals.save_membership(membership, decided_by=actor.account_id)
        profile = work.individuals.get(membership.individual_id)
        association_ids = work.individuals.accepted_association_ids(membership.individual_id)
        work.add_event(domain.membership_event(membership, version, profile, association_ids, now))
        if membership.status == "accepted":
            profile = profile | {"version": profile["version"] + 1, "updated_at": now}
            work.individuals.save(profile)
            work.add_event(domain.updated_event(profile, association_ids, now))
        return membership.model_dump(mode="json")


def individuals_after(
    *, unit_of_work: Callable, after_id: UUID | None, limit: int
) -> list[tuple[IndividualProfileV1, int]]:
    """Every individual in id order, each as events show them (never contact details) with their record's version,
    for other services rebuilding what they derive from the registry. Two queries a page, whatever its size."""
    with unit_of_work() as work:
        profiles = work.individuals.after(after_id, limit)
        accepted = work.individuals.accepted_association_ids_of([profile["id"] for profile in profiles])
        return [(domain.public_profile(profile, accepted[profile["id"]]), profile["version"]) for profile in profiles]
