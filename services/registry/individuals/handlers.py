"""Individual and membership use cases; `now` is the injected clock's time."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from contracts.errors import Conflict, Forbidden, NotFound
from contracts.individuals import (
    AccountExport,
    AssociationMembershipList,
    ExportedMembership,
    IndividualDraft,
    IndividualExport,
    IndividualPatch,
    IndividualView,
    MembershipV1,
    VersionedIndividualProfile,
    VersionedMembership,
)
from services.registry.accounts.domain import AccountPolicy
from services.registry.accounts.handlers import authenticate, authenticate_if_signed_in, confirm_password
from services.registry.authorization import is_admin_of, is_public, is_verified_admin_of
from services.registry.individuals import domain


def _not_found(individual_id: UUID) -> NotFound:
    return NotFound(f"there is no individual with id {individual_id}")


def _own_profile(work, actor, individual_id: UUID) -> dict:
    """Only the person themself may change, export or delete their profile."""
    profile = work.individuals.get(individual_id)
    if profile is None or actor.individual_id != individual_id:
        raise _not_found(individual_id)
    return profile


def _visible_view(work, actor, profile: dict) -> IndividualView:
    view = domain.visible_view(actor, profile, work.individuals.memberships_of(profile["id"]))
    if view is None:
        raise _not_found(profile["id"])
    return view


def _requestable_association(work, association_id: UUID, now: datetime):
    association = work.associations.get(association_id)
    if association is None or not is_public(association, now=now):
        raise NotFound(f"there is no verified association with id {association_id}")
    return association


def register_individual(
    *, unit_of_work: Callable, now: datetime, token: str | None, draft: IndividualDraft
) -> IndividualView:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        if work.individuals.of_account(actor.account_id) is not None:
            raise Conflict("this account already has an individual profile; change it instead")
        profile = domain.new_profile(draft, account_id=actor.account_id, now=now)
        work.individuals.add(profile)
        work.add_event(domain.registered_event(profile, [], now))
        for association_id in dict.fromkeys(draft.membership_requests):  # one request per association
            _requestable_association(work, association_id, now)
            membership = domain.new_membership(profile["id"], association_id, now)
            work.individuals.add_membership(membership)
            work.add_event(domain.membership_event(membership, 1, profile, [], now))
        actor = actor.model_copy(update={"individual_id": profile["id"]})
        return _visible_view(work, actor, profile)


def get_individual(*, unit_of_work: Callable, now: datetime, token: str | None, individual_id: UUID) -> IndividualView:
    with unit_of_work() as work:
        actor = authenticate_if_signed_in(work=work, token=token, now=now)
        profile = work.individuals.get(individual_id)
        if profile is None:
            raise _not_found(individual_id)
        return _visible_view(work, actor, profile)


def update_individual(
    *, unit_of_work: Callable, now: datetime, token: str | None, individual_id: UUID, patch: IndividualPatch
) -> IndividualView:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        profile = _own_profile(work, actor, individual_id)
        updated = domain.edited_profile(profile, patch, now=now)
        if updated is not None:
            work.individuals.save(updated)
            association_ids = work.individuals.accepted_association_ids(individual_id)
            work.add_event(domain.updated_event(updated, association_ids, now))
            profile = updated
        return _visible_view(work, actor, profile)


def delete_individual(
    *,
    unit_of_work: Callable,
    passwords,
    policy: AccountPolicy,
    now: datetime,
    token: str | None,
    individual_id: UUID,
    password: str,
) -> None:
    """The person's data and account are removed; their memberships stay, anonymised. Asks for the password."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        _own_profile(work, actor, individual_id)
    confirm_password(
        unit_of_work=unit_of_work, passwords=passwords, policy=policy, account_id=actor.account_id, password=password,
        now=now,
    )  # fmt: skip
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        profile = _own_profile(work, actor, individual_id)
        work.individuals.delete_with_account(profile)
        work.add_event(domain.deleted_event(profile, now))
        work.add_event(domain.account_deleted_event(actor, now))


def delete_account(
    *, unit_of_work: Callable, passwords, policy: AccountPolicy, now: datetime, token: str | None, password: str
) -> None:
    """Any account deletes itself, with or without a profile (which goes with it, announced). Asks for the password.
    Its sessions and its admin rights go with it; the associations it administered stay."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
    confirm_password(
        unit_of_work=unit_of_work, passwords=passwords, policy=policy, account_id=actor.account_id, password=password,
        now=now,
    )  # fmt: skip
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        profile = work.individuals.of_account(actor.account_id)
        if profile is None:
            work.individuals.delete_account(actor.account_id)
        else:
            work.individuals.delete_with_account(profile)
            work.add_event(domain.deleted_event(profile, now))
        work.add_event(domain.account_deleted_event(actor, now))


def export_account(*, unit_of_work: Callable, now: datetime, token: str | None) -> AccountExport:
    """Everything the registry holds about the caller's account, with their profile if they have one."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        profile = work.individuals.of_account(actor.account_id)
        memberships = [] if profile is None else work.individuals.memberships_of(profile["id"])
        names = work.individuals.association_names([membership.association_id for membership in memberships])
        return AccountExport(
            account=work.individuals.account_summary(actor.account_id),
            profile=None if profile is None else domain.details(profile),
            memberships=[
                ExportedMembership(**dict(membership), association_name=names.get(membership.association_id))
                for membership in memberships
            ],
            administers=[item.id for item in actor.administers],
        )


def export_individual(
    *, unit_of_work: Callable, now: datetime, token: str | None, individual_id: UUID
) -> IndividualExport:
    """Everything the registry holds about the person, for them to keep."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        profile = _own_profile(work, actor, individual_id)
        memberships = work.individuals.memberships_of(individual_id)
        names = work.individuals.association_names([membership.association_id for membership in memberships])
        return IndividualExport(
            account=work.individuals.account_summary(actor.account_id),
            profile=domain.details(profile),
            memberships=[
                ExportedMembership(**dict(membership), association_name=names.get(membership.association_id))
                for membership in memberships
            ],
            administers=[item.id for item in actor.administers],
        )


def request_membership(
    *, unit_of_work: Callable, now: datetime, token: str | None, association_id: UUID
) -> MembershipV1:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        if actor.individual_id is None:
            raise Conflict("register as an individual before asking to join an association")
        _requestable_association(work, association_id, now)
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
        return membership


def _require_membership_decider(actor, association_id: UUID, not_found: NotFound) -> None:
    """Its admins (while it is verified) and the Cell see and decide who asked to join; others learn nothing."""
    if not (actor.is_cell_staff or is_admin_of(actor, association_id)):
        raise not_found
    if not (actor.is_cell_staff or is_verified_admin_of(actor, association_id)):
        raise Forbidden("Only a verified association decides who joins it; the Cell reviews yours first.")


def association_memberships(
    *, unit_of_work: Callable, now: datetime, token: str | None, association_id: UUID, status: str | None, limit: int
) -> AssociationMembershipList:
    """The requests to join an association, oldest first, for its admins and the Cell."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        _require_membership_decider(
            actor, association_id, NotFound(f"there is no association with id {association_id}")
        )
        return AssociationMembershipList(
            items=work.individuals.memberships_of_association(association_id, status, limit)
        )


def decide_membership(
    *, unit_of_work: Callable, now: datetime, token: str | None, membership_id: UUID, decision: str
) -> MembershipV1:
    """An admin of the association accepts or declines; an accepted member appears with it in search."""
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        found = work.individuals.membership(membership_id)
        not_found = NotFound(f"there is no membership request with id {membership_id}")
        if found is None:
            raise not_found
        _require_membership_decider(actor, found[0].association_id, not_found)
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
        return membership


def individuals_after(*, unit_of_work: Callable, after_id: UUID | None, limit: int) -> list[VersionedIndividualProfile]:
    """Every individual in id order, each as events show them (never contact details) with their record's version,
    for other services rebuilding what they derive from the registry. Two queries a page, whatever its size."""
    with unit_of_work() as work:
        profiles = work.individuals.after(after_id, limit)
        accepted = work.individuals.accepted_association_ids_of([profile["id"] for profile in profiles])
        return [
            VersionedIndividualProfile(
                individual=domain.public_profile(profile, accepted[profile["id"]]), version=profile["version"]
            )
            for profile in profiles
        ]


def memberships_after(*, unit_of_work: Callable, after_id: UUID | None, limit: int) -> list[VersionedMembership]:
    """Every membership in id order with its version, for messaging rebuilding its directory from the registry."""
    with unit_of_work() as work:
        return [
            VersionedMembership(membership=membership, version=version)
            for membership, version in work.individuals.memberships_after(after_id, limit)
        ]
