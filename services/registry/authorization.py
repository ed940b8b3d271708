"""Who may do what in the registry, checked here and not only at the gateway. Plain Python."""

from uuid import UUID

from contracts.accounts import Principal
from contracts.associations import AssociationV1
from contracts.errors import Forbidden, NotFound


def is_admin_of(actor: Principal | None, association_id: UUID) -> bool:
    return actor is not None and any(item.id == association_id for item in actor.administers)


def is_public(association: AssociationV1) -> bool:
    return association.status == "verified" and association.merged_into is None


def may_see(actor: Principal | None, association: AssociationV1) -> bool:
    """Verified associations are public; the others only to their admins and the Cell."""
    return is_public(association) or (actor is not None and actor.is_cell_staff) or is_admin_of(actor, association.id)


def require_visible(actor: Principal | None, association: AssociationV1 | None, association_id: UUID) -> AssociationV1:
    """Unseen and missing look alike, so that nobody learns what is pending review."""
    if association is None or not may_see(actor, association):
        raise NotFound(f"there is no association with id {association_id}")
    return association


def require_editor(actor: Principal, association: AssociationV1) -> None:
    if not (actor.is_cell_staff or is_admin_of(actor, association.id)):
        raise Forbidden("Only this association's admins and the Mizo Diaspora Cell can change it.")


def require_cell_staff(actor: Principal, action: str) -> None:
    if not actor.is_cell_staff:
        raise Forbidden(f"Only the Mizo Diaspora Cell can {action}.")
