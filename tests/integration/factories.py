"""Events and drafts for integration tests."""

from datetime import UTC, datetime
from uuid import uuid4

from contracts.associations import AssociationDraft, AssociationV1
from contracts.events import AssociationRegisteredV1, AssociationUpdatedV1


def draft(**overrides) -> AssociationDraft:
    fields = {
        "name": "Mizo Welfare Association Dubai",
        "country": "AE",
        "city": "Dubai",
        "languages": ["lus", "en"],
        "email": "mwa.dubai@example.org",
    }
    return AssociationDraft(**(fields | overrides))


def association_event(*, association_id=None, version: int = 1, **overrides):
    """A registered event for version 1, an updated event after it."""
    now = datetime.now(UTC)
    association = AssociationV1(
        **draft(**overrides).model_dump(),
        id=association_id or uuid4(),
        status="pending",
        version=version,
        registered_at=now,
        updated_at=now,
    )
    event_type = AssociationRegisteredV1 if version == 1 else AssociationUpdatedV1
    return event_type(
        event_id=uuid4(),
        occurred_at=now,
        aggregate_id=association.id,
        aggregate_version=version,
        association=association,
    )
