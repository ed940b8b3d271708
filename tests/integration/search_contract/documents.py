"""Documents for the contract suite."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.search.documents import AssociationDocument, IndividualDocument

REGISTERED = datetime(2026, 1, 1, tzinfo=UTC)


def association(name: str = "Mizo Welfare Association", **fields) -> AssociationDocument:
    return AssociationDocument(
        **{
            "id": uuid4(),
            "name": name,
            "country": "SG",
            "city": "Singapore",
            "languages": ["lus"],
            "status": "verified",
            "registered_at": REGISTERED,
        }
        | fields
    )


def registered_days_later(days: int) -> datetime:
    return REGISTERED + timedelta(days=days)


def individual(name: str = "Lalremruati", **fields) -> IndividualDocument:
    return IndividualDocument(
        **{
            "id": uuid4(),
            "name": name,
            "country": "SG",
            "city": "Singapore",
            "languages": ["lus"],
            "visibility": "public",
        }
        | fields
    )
