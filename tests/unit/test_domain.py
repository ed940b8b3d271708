"""Registry rules: a new association and the event that announces it."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.associations import AssociationDraft
from contracts.events import AssociationRegisteredV1
from services.registry.domain import register_association

DRAFT = AssociationDraft(
    name="Mizo Welfare Association Singapore",
    country="SG",
    city="Singapore",
    languages=["lus"],
    email="hello@mizo.sg",
)
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_new_association_is_pending_at_version_1_with_the_draft_fields():
    association, _ = register_association(DRAFT, now=NOW)

    assert association.status == "pending"
    assert association.version == 1
    assert association.registered_at == association.updated_at == NOW
    assert association.model_dump(include=set(AssociationDraft.model_fields)) == DRAFT.model_dump()


def test_the_given_id_is_used_and_otherwise_a_new_one_each_time():
    chosen = uuid4()

    assert register_association(DRAFT, now=NOW, association_id=chosen)[0].id == chosen
    assert register_association(DRAFT, now=NOW)[0].id != register_association(DRAFT, now=NOW)[0].id


def test_the_event_envelope_describes_the_new_association():
    association, registered = register_association(DRAFT, now=NOW)

    assert registered.aggregate_id == association.id
    assert registered.aggregate_version == association.version == 1
    assert registered.association == association
    assert registered.occurred_at == NOW
    assert registered.routing_key == "association_registered.v1"


def test_occurred_at_is_timezone_aware():
    india = timezone(timedelta(hours=5, minutes=30))

    _, registered = register_association(DRAFT, now=datetime(2025, 3, 1, 15, 0, tzinfo=india))

    assert registered.occurred_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert registered.occurred_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_time_without_a_timezone_is_refused():
    with pytest.raises(ValidationError, match="timezone"):
        register_association(DRAFT, now=datetime(2025, 3, 1, 9, 30))


def test_every_registration_has_its_own_event_id():
    _, first = register_association(DRAFT, now=NOW)
    _, second = register_association(DRAFT, now=NOW)

    assert first.event_id != second.event_id


def test_the_event_survives_the_bus_unchanged():
    _, registered = register_association(DRAFT, now=NOW)

    on_the_wire = registered.model_dump(mode="json")

    assert AssociationRegisteredV1.model_validate(on_the_wire) == registered
