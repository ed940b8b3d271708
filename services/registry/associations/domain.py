"""Registry rules, in plain Python."""

from datetime import datetime
from uuid import UUID, uuid4

from contracts.associations import AssociationDraft, AssociationV1
from contracts.events import AssociationRegisteredV1


def register_association(
    draft: AssociationDraft, *, now: datetime, association_id: UUID | None = None
) -> tuple[AssociationV1, AssociationRegisteredV1]:
    """A new association starts `pending` until the Mizo Diaspora Cell verifies it."""
    association = AssociationV1(
        **draft.model_dump(),
        id=association_id or uuid4(),
        status="pending",
        version=1,
        registered_at=now,
        updated_at=now,
    )
    registered = AssociationRegisteredV1(
        event_id=uuid4(),
        occurred_at=now,
        aggregate_id=association.id,
        aggregate_version=association.version,
        association=association,
    )
    return association, registered
