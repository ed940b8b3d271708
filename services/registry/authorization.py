"""Who may do what in the registry, checked here and not only at the gateway. Plain Python."""

from datetime import datetime
from uuid import UUID

from contracts.accounts import Principal
from contracts.associations import AssociationV1
from contracts.errors import Forbidden, NotFound


def is_admin_of(actor: Principal | None, association_id: UUID) -> bool:
    return actor is not None and any(item.id == association_id for item in actor.administers)


def verification_holds(association: AssociationV1, now: datetime) -> bool:
    """Verified, not merged, and not past its verification due date: what verification gives lasts no longer."""
    due = association.verification_due_at
    return association.status == "verified" and association.merged_into is None and (due is None or now < due)


def is_public(association: AssociationV1, *, now: datetime) -> bool:
    return verification_holds(association, now)


def is_verified_admin_of(actor: Principal | None, association_id: UUID) -> bool:
    """An admin of this association while its verification holds (Principal.administers says, as of its login)."""
    return actor is not None and any(item.id == association_id and item.verified for item in actor.administers)


def may_see(actor: Principal | None, association: AssociationV1, *, now: datetime) -> bool:
    """Verified associations are public; the others only to their admins and the Cell."""
    return (
        is_public(association, now=now)
        or (actor is not None and actor.is_cell_staff)
        or is_admin_of(actor, association.id)
    )


def require_visible(
    actor: Principal | None, association: AssociationV1 | None, association_id: UUID, *, now: datetime
) -> AssociationV1:
    """Unseen and missing look alike, so that nobody learns what is pending review."""
    if association is None or not may_see(actor, association, now=now):
        raise NotFound(f"there is no association with id {association_id}")
    return association


def require_editor(actor: Principal, association: AssociationV1) -> None:
    if not (actor.is_cell_staff or is_admin_of(actor, association.id)):
        raise Forbidden("Only this association's admins and the Mizo Diaspora Cell can change it.")


def require_cell_staff(actor: Principal, action: str) -> None:
    if not actor.is_cell_staff:
        raise Forbidden(f"Only the Mizo Diaspora Cell can {action}.")
