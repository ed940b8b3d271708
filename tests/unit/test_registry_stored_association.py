"""An association read back from the registry's database is the AssociationV1 that full validation gives, though
the checks that run in Python (e-mail, phone, codes) are not run again."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import HttpUrl, ValidationError

from contracts.associations import AssociationV1, GatheringPlace, Location, OfficeBearer
from services.registry.associations.repository import stored_association

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
EVERY_FIELD = {
    "id": "5f0c1e2a-4b7d-4f51-9a51-3c0e8b0d2a11",
    "name": "Mizo Welfare Association Dubai",
    "alternate_names": ["MWA Dubai"],
    "description": "Sundays at 10:00",
    "categories": ["welfare", "church"],
    "country": "AE",
    "city": "Dubai",
    "region": "Dubai",
    "address": "Al Quoz 3",
    "location": {"lat": 25.14, "lon": 55.23},
    "languages": ["lus", "en"],
    "email": "MWA.Dubai@Example.ORG",
    "phone": "+91 98765 43210",
    "website": "https://mwa-dubai.example.org",
    "office_bearers": [{"name": "Lalthanzara", "title": "President", "term_start": "2025-01-01"}],
    "gathering_places": [{"address": "Al Quoz 3", "schedule": "Sundays"}],
    "founded_year": 1998,
    "member_count": 120,
    "parent_id": "0b1f5c2e-8d44-4c8a-9a51-3c0e8b0d2a12",
    "status": "suspended",
    "status_reason": "Contact details out of date",
    "verification_due_at": NOW + timedelta(days=365),
    "merged_into": "7d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6",
    "version": 3,
    "registered_at": NOW,
    "updated_at": NOW,
}


def stored_document(fields: dict) -> dict:
    """What the repository writes: the validated association as JSON."""
    return AssociationV1.model_validate(fields).model_dump(mode="json")


def assert_same_as_validated(document: dict) -> None:
    validated = AssociationV1.model_validate(document)
    read = stored_association(document)
    assert type(read) is AssociationV1
    assert read == validated
    assert read.model_fields_set == validated.model_fields_set
    assert read.model_dump(mode="json") == validated.model_dump(mode="json")


def test_a_document_with_every_field_reads_back_as_full_validation_gives_it():
    document = stored_document(EVERY_FIELD)
    assert document["email"] == "MWA.Dubai@example.org" and document["phone"] == "+919876543210"  # as stored

    assert_same_as_validated(document)
    read = stored_association(document)
    assert (type(read.website), type(read.location), type(read.office_bearers[0]), type(read.gathering_places[0])) == (
        HttpUrl,
        Location,
        OfficeBearer,
        GatheringPlace,
    )


def test_a_document_without_the_fields_added_later_gets_their_defaults_as_validation_gives_them():
    """Documents written by migration 0002 from 0001 rows have no alternate_names."""
    document = stored_document({
        key: EVERY_FIELD[key]
        for key in ("id", "name", "country", "city", "languages", "email", "status", "version", "registered_at")
    } | {"updated_at": NOW})  # fmt: skip
    del document["alternate_names"], document["categories"]

    assert_same_as_validated(document)
    assert stored_association(document).alternate_names == []


def test_a_stored_association_is_as_frozen_as_a_validated_one():
    read = stored_association(stored_document(EVERY_FIELD))

    with pytest.raises(ValidationError, match="frozen"):
        read.name = "Another name"
