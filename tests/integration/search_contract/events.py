"""Registry events as the registry publishes them, for the search service's tests."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from kombu import Connection

from contracts.associations import AssociationV1
from contracts.events import (
    AssociationVerifiedV1,
    EventEnvelope,
    IndividualDeletedV1,
    IndividualRegisteredV1,
)
from contracts.individuals import IndividualProfileV1
from servicekit.bus import event_exchange


def association_event(
    event_type=AssociationVerifiedV1, *, association_id: UUID | None = None, version: int = 1, **fields
) -> EventEnvelope:
    """A verified association by default, with a location unless one is given."""
    now = datetime.now(UTC)
    association = AssociationV1(
        **{
            "id": association_id or uuid4(),
            "name": "Mizo Welfare Association Dubai",
            "country": "AE",
            "city": "Dubai",
            "languages": ["lus", "en"],
            "email": "secretary@example.org",
            "phone": "+91 389 232 2000",
            "website": "https://mwa.example.org/",
            "status": "verified",
            "version": version,
            "registered_at": now,
            "updated_at": now,
        }
        | fields
    )
    return event_type(
        event_id=uuid4(),
        occurred_at=now,
        aggregate_id=association.id,
        aggregate_version=version,
        association=association,
    )


def individual_event(
    event_type=IndividualRegisteredV1, *, individual_id: UUID | None = None, version: int = 1, **fields
) -> EventEnvelope:
    individual_id = individual_id or uuid4()
    envelope = {"event_id": uuid4(), "occurred_at": datetime.now(UTC), "aggregate_id": individual_id}
    if event_type is IndividualDeletedV1:
        return IndividualDeletedV1(**envelope, aggregate_version=version)
    profile = IndividualProfileV1(
        **{
            "id": individual_id,
            "name": "Lalremruati",
            "country": "SG",
            "city": "Singapore",
            "languages": ["lus"],
            "visibility": "public",
        }
        | fields
    )
    return event_type(**envelope, aggregate_version=version, individual=profile)


def publish(amqp_uri: str, *events: EventEnvelope) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        for event in events:
            producer.publish(
                event.model_dump(mode="json"),
                exchange=event_exchange(event.source),
                routing_key=event.routing_key,
                serializer="json",
            )
