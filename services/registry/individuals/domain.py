"""Individual rules, in plain Python: what each audience may see of a person, and profile changes."""

from datetime import datetime
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.errors import Conflict
from contracts.events import (
    AccountDeletedV1,
    IndividualDeletedV1,
    IndividualRegisteredV1,
    IndividualUpdatedV1,
    MembershipChangedV1,
)
from contracts.individuals import (
    IndividualAssociationView,
    IndividualDetails,
    IndividualDraft,
    IndividualFullView,
    IndividualPatch,
    IndividualProfileV1,
    IndividualPublicView,
    IndividualView,
    MembershipV1,
)

PUBLIC_FIELDS = ("id", "name", "city", "languages")
ASSOCIATION_FIELDS = ("id", "name", "country", "city", "languages")


def audience_fields(
    actor: Principal | None, profile: dict, *, membership_association_ids: set[UUID]
) -> tuple[str, ...] | None:
    """The fields this actor may see of this person, or None if the person must stay hidden from them.

    Contact details go only to the person and the Cell; an association sees a person only through
    their visibility (verified associations of the same country) or a membership it must decide, and only
    while its verification holds (`verified` in the principal: not suspended, merged or past its due date).
    """
    if actor is not None and (actor.is_cell_staff or actor.individual_id == UUID(str(profile["id"]))):
        return tuple(profile)
    if actor is not None:
        verified = {item.id for item in actor.administers if item.verified}
        verified_here = {item.id for item in actor.administers if item.verified and item.country == profile["country"]}
        if (profile["visibility"] in {"associations", "public"} and verified_here) or (
            verified & membership_association_ids
        ):
            return ASSOCIATION_FIELDS
    if profile["visibility"] == "public":
        return PUBLIC_FIELDS
    return None


def details(profile: dict) -> IndividualDetails:
    """The whole profile, contact details included, but not the account it belongs to."""
    return IndividualDetails(**{field: profile[field] for field in IndividualDetails.model_fields})


def visible_view(actor: Principal | None, profile: dict, memberships: list[MembershipV1]) -> IndividualView | None:
    """As much of the person as this actor may see (see `audience_fields`), or None if nothing."""
    # A request the association has declined (or the person withdrew) no longer shows them to its admins.
    asked = {membership.association_id for membership in memberships if membership.status in {"requested", "accepted"}}
    fields = audience_fields(actor, profile, membership_association_ids=asked)
    if fields is None:
        return None
    if fields == PUBLIC_FIELDS:
        return IndividualPublicView(**{field: profile[field] for field in PUBLIC_FIELDS})
    if fields == ASSOCIATION_FIELDS:
        return IndividualAssociationView(**{field: profile[field] for field in ASSOCIATION_FIELDS})
    return IndividualFullView(**dict(details(profile)), memberships=memberships)


def new_profile(draft: IndividualDraft, *, account_id: UUID, now: datetime) -> dict:
    return draft.model_dump(exclude={"membership_requests"}) | {
        "id": uuid4(),
        "account_id": account_id,
        "version": 1,
        "registered_at": now,
        "updated_at": now,
    }


def edited_profile(profile: dict, patch: IndividualPatch, *, now: datetime) -> dict | None:
    changed = {field: value for field, value in patch.model_dump(include=patch.model_fields_set).items()}
    if all(profile.get(field) == value for field, value in changed.items()):
        return None
    return profile | changed | {"version": profile["version"] + 1, "updated_at": now}


def public_profile(profile: dict, association_ids: list[UUID]) -> IndividualProfileV1:
    """What events say about a person: never contact details."""
    return IndividualProfileV1(
        id=profile["id"],
        name=profile["name"],
        country=profile["country"],
        city=profile["city"],
        languages=profile["languages"],
        visibility=profile["visibility"],
        association_ids=association_ids,
    )


def _envelope(aggregate_id: UUID, version: int, now: datetime) -> dict:
    return {"event_id": uuid4(), "occurred_at": now, "aggregate_id": aggregate_id, "aggregate_version": version}


def registered_event(profile: dict, association_ids: list[UUID], now: datetime) -> IndividualRegisteredV1:
    return IndividualRegisteredV1(
        **_envelope(profile["id"], profile["version"], now), individual=public_profile(profile, association_ids)
    )


def updated_event(profile: dict, association_ids: list[UUID], now: datetime) -> IndividualUpdatedV1:
    return IndividualUpdatedV1(
        **_envelope(profile["id"], profile["version"], now), individual=public_profile(profile, association_ids)
    )


def deleted_event(profile: dict, now: datetime) -> IndividualDeletedV1:
    return IndividualDeletedV1(**_envelope(profile["id"], profile["version"] + 1, now))


def account_deleted_event(account: Principal, now: datetime) -> AccountDeletedV1:
    return AccountDeletedV1(**_envelope(account.account_id, 1, now),
                            administered=[association.id for association in account.administers])  # fmt: skip


def membership_event(
    membership: MembershipV1, version: int, profile: dict | None, association_ids: list[UUID], now: datetime
) -> MembershipChangedV1:
    return MembershipChangedV1(
        **_envelope(membership.id, version, now),
        membership=membership,
        individual=None if profile is None else public_profile(profile, association_ids),
    )


def new_membership(individual_id: UUID, association_id: UUID, now: datetime) -> MembershipV1:
    return MembershipV1(
        id=uuid4(), individual_id=individual_id, association_id=association_id, status="requested", requested_at=now
    )


def decide_membership(membership: MembershipV1, decision: str, now: datetime) -> MembershipV1:
    if membership.status != "requested":
        raise Conflict(f"this membership request was already {membership.status}")
    status = {"accept": "accepted", "decline": "declined"}[decision]
    return membership.model_copy(update={"status": status, "decided_at": now})
