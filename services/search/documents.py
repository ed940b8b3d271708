"""What search keeps of an association or an individual: public fields only, never a contact detail."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from contracts.associations import AssociationStatus, AssociationV1, Location
from contracts.individuals import IndividualProfileV1, Visibility
from contracts.search import AssociationHit, IndividualHit, Suggestion
from services.search.geo import great_circle_km
from services.search.text import nfc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AssociationDocument(BaseModel):
    """An association as both engines index it: no e-mail, phone, website, address or member data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    name: str
    alternate_names: list[str] = []
    description: str = ""
    categories: list[str] = []
    country: str
    city: str
    region: str | None = None
    location: Location | None = None
    languages: list[str]
    office_bearer_names: list[str] = []
    status: AssociationStatus
    merged_into: UUID | None = None
    registered_at: AwareDatetime
    verification_due_at: AwareDatetime | None = None

    @classmethod
    def of(cls, association: AssociationV1) -> "AssociationDocument":
        return cls(
            id=association.id,
            name=nfc(association.name),
            alternate_names=[nfc(name) for name in association.alternate_names],
            description=nfc(association.description),
            categories=list(association.categories),
            country=association.country,
            city=nfc(association.city),
            region=nfc(association.region) if association.region else None,
            location=association.location,
            languages=list(association.languages),
            office_bearer_names=[nfc(bearer.name) for bearer in association.office_bearers],
            status=association.status,
            merged_into=association.merged_into,
            registered_at=association.registered_at,
            verification_due_at=association.verification_due_at,
        )

    @property
    def public(self) -> bool:
        """Only verified associations are shown to the public; a merged one lives on in the one it joined.
        Both engines also hide one whose verification is due (`lapsed`) when they are asked."""
        return self.status == "verified" and self.merged_into is None

    def lapsed(self, now: datetime) -> bool:
        """Past its verification due date: out of public view at once, before the registry announces the lapse."""
        return self.verification_due_at is not None and now >= self.verification_due_at

    @property
    def registered_microseconds(self) -> int:
        """`registered_at` exactly, for sorting by newest (Elasticsearch keeps it as `date_nanos`)."""
        return (self.registered_at - EPOCH) // timedelta(microseconds=1)

    def texts(self) -> dict[str, list[str]]:
        """The text searched, by field."""
        return {
            "name": [self.name],
            "alternate_names": self.alternate_names,
            "city": [self.city],
            "office_bearer_names": self.office_bearer_names,
            "description": [self.description],
        }

    def distance_km(self, near: Location | None) -> float | None:
        if near is None or self.location is None:
            return None
        return round(great_circle_km(near.lat, near.lon, self.location.lat, self.location.lon), 3)

    def hit(self, near: Location | None = None) -> AssociationHit:
        return AssociationHit(
            id=self.id,
            name=self.name,
            alternate_names=self.alternate_names,
            country=self.country,
            city=self.city,
            languages=self.languages,
            categories=self.categories,
            status=self.status,
            distance_km=self.distance_km(near),
        )

    def suggestion(self) -> Suggestion:
        return Suggestion(id=self.id, name=self.name, country=self.country, city=self.city)


class IndividualDocument(BaseModel):
    """An individual as search keeps them: name, place to the city, languages, and who may see them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    name: str
    country: str
    city: str
    languages: list[str]
    visibility: Visibility

    @classmethod
    def of(cls, profile: IndividualProfileV1) -> "IndividualDocument":
        return cls(
            id=profile.id,
            name=nfc(profile.name),
            country=profile.country,
            city=nfc(profile.city),
            languages=list(profile.languages),
            visibility=profile.visibility,
        )

    def texts(self) -> dict[str, list[str]]:
        """The text searched, by field."""
        return {"name": [self.name], "city": [self.city]}

    def hit(self) -> IndividualHit:
        return IndividualHit(id=self.id, name=self.name, country=self.country, city=self.city, languages=self.languages)
