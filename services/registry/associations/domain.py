"""Association rules, in plain Python: registration, edits, the verification lifecycle, merges."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from contracts.associations import AssociationDraft, AssociationPatch, AssociationV1, Location
from contracts.errors import Conflict, Invalid
from contracts.events import (
    AssociationDissolvedV1,
    AssociationEvent,
    AssociationMergedV1,
    AssociationRegisteredV1,
    AssociationRejectedV1,
    AssociationSuspendedV1,
    AssociationUpdatedV1,
    AssociationVerifiedV1,
)

VERIFICATION_VALID_FOR = timedelta(days=365)
CLOSED_STATUSES = frozenset({"dissolved"})
# What the Cell checked when it verified: changing any of these sends a verified association back to review.
REVIEWED_FIELDS = ("name", "country", "city", "email", "phone")
BACK_TO_REVIEW = "changed {fields} after verification: the Mizo Diaspora Cell reviews it again"

LocateCity = Callable[[str, str], Location | None]
_ANY = TypeAdapter(object)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old_value: object
    new_value: object


def _event(
    event_type: type[AssociationEvent], association: AssociationV1, *, now: datetime, actor: UUID | None, **extra
):
    return event_type(
        event_id=uuid4(),
        occurred_at=now,
        aggregate_id=association.id,
        aggregate_version=association.version,
        association=association,
        actor_account_id=actor,
        **extra,
    )


def register(
    draft: AssociationDraft, *, now: datetime, locate_city: LocateCity, actor: UUID | None, status: str = "pending"
) -> tuple[AssociationV1, AssociationRegisteredV1]:
    """A new association is `pending` until the Mizo Diaspora Cell verifies it (an import may register it verified)."""
    fields = draft.model_dump()
    if draft.location is None:
        fields["location"] = locate_city(draft.city, draft.country)
    association = AssociationV1(
        **fields,
        id=uuid4(),
        status=status,
        verification_due_at=now + VERIFICATION_VALID_FOR if status == "verified" else None,
        version=1,
        registered_at=now,
        updated_at=now,
    )
    return association, _event(AssociationRegisteredV1, association, now=now, actor=actor)


def _ensure_open(association: AssociationV1) -> None:
    if association.merged_into is not None:
        raise Conflict(f"association {association.id} was merged into {association.merged_into}; edit that one")
    if association.status in CLOSED_STATUSES:
        raise Conflict(f"association {association.id} is {association.status}")


def edit(
    association: AssociationV1,
    patch: AssociationPatch,
    *,
    now: datetime,
    locate_city: LocateCity,
    actor: UUID,
    by_cell: bool = False,
) -> tuple[AssociationV1, list[FieldChange], AssociationUpdatedV1 | None]:
    """Apply the fields sent; a city or country change without a location moves the location to the new city.

    A verified association whose admins change a reviewed field (REVIEWED_FIELDS) goes back to `pending`
    at once, with the change applied, until the Cell verifies it again; the Cell's own edits keep it verified.
    """
    _ensure_open(association)
    if patch.parent_id is not None and patch.parent_id == association.id:
        raise Invalid("parent_id: an association cannot be its own parent")
    current = association.model_dump()
    proposed = current | patch.model_dump(include=patch.model_fields_set)
    place_changed = (proposed["city"], proposed["country"]) != (current["city"], current["country"])
    if place_changed and "location" not in patch.model_fields_set:
        location = locate_city(proposed["city"], proposed["country"])
        proposed["location"] = location.model_dump() if location else None
    changes = [
        FieldChange(field, current[field], proposed[field])
        for field in AssociationPatch.model_fields
        if _as_json(current[field]) != _as_json(proposed[field])
    ]
    if not changes:
        return association, [], None
    reviewed = [change.field for change in changes if change.field in REVIEWED_FIELDS]
    if association.status == "verified" and reviewed and not by_cell:
        proposed |= {
            "status": "pending",
            "status_reason": BACK_TO_REVIEW.format(fields=", ".join(reviewed)),
            "verification_due_at": None,
        }
    updated = AssociationV1.model_validate(proposed | {"version": association.version + 1, "updated_at": now})
    changes = [FieldChange(c.field, _as_json(c.old_value), _as_json(getattr(updated, c.field))) for c in changes]
    changes += [
        FieldChange(field, _as_json(getattr(association, field)), _as_json(getattr(updated, field)))
        for field in ("status", "status_reason", "verification_due_at")
        if getattr(association, field) != getattr(updated, field)
    ]
    event = _event(
        AssociationUpdatedV1, updated, now=now, actor=actor, changed_fields=[change.field for change in changes]
    )
    return updated, changes, event


def _as_json(value: object) -> object:
    """Values as they are stored and shown in the history (dates as ISO text, URLs as text)."""
    return _ANY.dump_python(value, mode="json")


DECISIONS = {
    # decision: (statuses it applies to, resulting status, event)
    "verify": ({"pending", "rejected", "suspended", "verified"}, "verified", AssociationVerifiedV1),
    "reject": ({"pending"}, "rejected", AssociationRejectedV1),
    "suspend": ({"verified"}, "suspended", AssociationSuspendedV1),
    "dissolve": ({"pending", "verified", "rejected", "suspended"}, "dissolved", AssociationDissolvedV1),
}


def decide(
    association: AssociationV1, decision: str, *, reason: str | None, now: datetime, actor: UUID
) -> tuple[AssociationV1, list[FieldChange], AssociationEvent]:
    """Verification, rejection, suspension or dissolution; verifying a verified one renews it for a year."""
    if association.merged_into is not None:
        raise Conflict(f"association {association.id} was merged into {association.merged_into}")
    applies_to, status, event_type = DECISIONS[decision]
    if association.status not in applies_to:
        raise Conflict(f"a {association.status} association cannot be given the decision '{decision}'")
    if decision in {"reject", "suspend"} and not (reason or "").strip():
        raise Invalid(f"reason: say why, so that the association can put it right ({decision})")
    due = now + VERIFICATION_VALID_FOR if status == "verified" else None
    updated = association.model_copy(
        update={
            "status": status,
            "status_reason": reason,
            "verification_due_at": due,
            "version": association.version + 1,
            "updated_at": now,
        }
    )
    changes = [
        FieldChange(field, _as_json(getattr(association, field)), _as_json(getattr(updated, field)))
        for field in ("status", "status_reason", "verification_due_at")
        if getattr(association, field) != getattr(updated, field)
    ]
    return updated, changes, _event(event_type, updated, now=now, actor=actor)


def lapse(
    association: AssociationV1, *, now: datetime
) -> tuple[AssociationV1, list[FieldChange], AssociationUpdatedV1]:
    """A verified association past its verification due date goes back to `pending` until the Cell renews it."""
    due = association.verification_due_at
    updated = association.model_copy(
        update={
            "status": "pending",
            "status_reason": f"verification lapsed on {due:%Y-%m-%d}: the Mizo Diaspora Cell reviews it again",
            "verification_due_at": None,
            "version": association.version + 1,
            "updated_at": now,
        }
    )
    changes = [
        FieldChange(field, _as_json(getattr(association, field)), _as_json(getattr(updated, field)))
        for field in ("status", "status_reason", "verification_due_at")
        if getattr(association, field) != getattr(updated, field)
    ]
    event = _event(AssociationUpdatedV1, updated, now=now, actor=None, changed_fields=[c.field for c in changes])
    return updated, changes, event


def merge(
    merged: AssociationV1, kept: AssociationV1, *, now: datetime, actor: UUID
) -> tuple[AssociationV1, list[FieldChange], AssociationMergedV1]:
    """The merged association points at the kept one and leaves public view; the kept one is unchanged."""
    if merged.id == kept.id:
        raise Invalid("into: an association cannot be merged into itself")
    for association in (merged, kept):
        _ensure_open(association)
    updated = merged.model_copy(update={"merged_into": kept.id, "version": merged.version + 1, "updated_at": now})
    changes = [FieldChange("merged_into", None, str(kept.id))]
    return updated, changes, _event(AssociationMergedV1, updated, now=now, actor=actor, kept_id=kept.id)
