"""Events the services publish, each in an envelope and versioned in its name."""

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.associations import AssociationV1


class EventEnvelope(BaseModel):
    """Every event carries who it is about and which version of that aggregate it describes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: ClassVar[str]
    routing_key: ClassVar[str]

    event_id: UUID
    occurred_at: AwareDatetime
    aggregate_id: UUID
    aggregate_version: int = Field(ge=1)


class AssociationRegisteredV1(EventEnvelope):
    source = "registry"
    routing_key = "association_registered.v1"

    association: AssociationV1


class AssociationUpdatedV1(EventEnvelope):
    source = "registry"
    routing_key = "association_updated.v1"

    association: AssociationV1


EVENT_TYPES: dict[str, type[EventEnvelope]] = {
    event_type.routing_key: event_type for event_type in (AssociationRegisteredV1, AssociationUpdatedV1)
}
