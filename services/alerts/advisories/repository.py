"""Advisory queries: advisories, whom they reached, and the safety answers."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.advisories import AdvisoryV1, SafetyStatus
from contracts.errors import Conflict
from services.alerts.advisories.domain import Answer, Person, Recipient
from services.alerts.db import AdvisoryPersonRecord, AdvisoryRecipientRecord, AdvisoryRecord, SafetyAnswerRecord


class AdvisoryRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, advisory: AdvisoryV1, *, published_by: UUID) -> None:
        self.session.add(
            AdvisoryRecord(
                id=advisory.id,
                published_at=advisory.published_at,
                expires_at=advisory.expires_at,
                published_by=published_by,
                document=advisory.model_dump(mode="json"),
            )
        )

    def get(self, advisory_id: UUID) -> AdvisoryV1 | None:
        record = self.session.get(AdvisoryRecord, advisory_id)
        return None if record is None else AdvisoryV1.model_validate(record.document)

    def page(self, *, now: datetime, offset: int, limit: int) -> tuple[int, list[AdvisoryV1]]:
        """Those in force first, newest first; then the expired ones, newest first."""
        total = self.session.scalar(select(func.count()).select_from(AdvisoryRecord))
        expired_last = case((AdvisoryRecord.expires_at > now, 0), else_=1)
        documents = self.session.scalars(
            select(AdvisoryRecord.document)
            .order_by(expired_last, AdvisoryRecord.published_at.desc(), AdvisoryRecord.id)
            .offset(offset)
            .limit(limit)
        )
        return total, [AdvisoryV1.model_validate(document) for document in documents]

    def in_force(self, *, now: datetime, limit: int) -> list[AdvisoryV1]:
        documents = self.session.scalars(
            select(AdvisoryRecord.document)
            .where(AdvisoryRecord.expires_at > now)
            .order_by(AdvisoryRecord.published_at.desc(), AdvisoryRecord.id)
            .limit(limit)
        )
        return [AdvisoryV1.model_validate(document) for document in documents]

    def delivered(self, advisory_id: UUID) -> bool:
        return (
            self.session.scalar(select(AdvisoryRecord.delivered_at).where(AdvisoryRecord.id == advisory_id)) is not None
        )

    def record_delivery(self, advisory: AdvisoryV1, recipients: list[Recipient], *, now: datetime) -> None:
        """Whom it reached; a repeat (the same recipients found again) adds nobody twice."""
        known = set(
            self.session.scalars(
                select(AdvisoryRecipientRecord.party).where(AdvisoryRecipientRecord.advisory_id == advisory.id)
            )
        )
        fresh = {recipient.party: recipient for recipient in recipients if recipient.party not in known}
        self.session.add_all(
            AdvisoryRecipientRecord(
                advisory_id=advisory.id, party=recipient.party, country=recipient.country, city=recipient.city
            )
            for recipient in fresh.values()
        )
        reached = advisory.model_copy(update={"reached": len(known) + len(fresh)})
        self.session.execute(
            update(AdvisoryRecord)
            .where(AdvisoryRecord.id == advisory.id)
            .values(document=reached.model_dump(mode="json"), delivered_at=now)
        )

    def recipients(self, advisory_id: UUID) -> list[Recipient]:
        records = self.session.scalars(
            select(AdvisoryRecipientRecord)
            .where(AdvisoryRecipientRecord.advisory_id == advisory_id)
            .order_by(AdvisoryRecipientRecord.party)
        )
        return [Recipient(party=record.party, country=record.country, city=record.city) for record in records]

    def mark_reminded(self, advisory_id: UUID, parties: list[str], now: datetime) -> None:
        self.session.execute(
            update(AdvisoryRecipientRecord)
            .where(AdvisoryRecipientRecord.advisory_id == advisory_id, AdvisoryRecipientRecord.party.in_(parties))
            .values(reminded_at=now)
        )

    def answers(self, advisory_id: UUID) -> list[Answer]:
        records = self.session.scalars(select(SafetyAnswerRecord).where(SafetyAnswerRecord.advisory_id == advisory_id))
        return [
            Answer(party=record.party, status=record.status, country=record.country, city=record.city)
            for record in records
        ]

    def previous_answer(self, advisory_id: UUID, party: str) -> tuple[SafetyStatus, int, UUID | None] | None:
        """The status, version and help request of the party's last answer."""
        record = self.session.get(SafetyAnswerRecord, (advisory_id, party))
        return None if record is None else (record.status, record.version, record.help_request_id)

    def save_answer(
        self,
        *,
        advisory_id: UUID,
        answer: Answer,
        answered_by: UUID,
        for_association: UUID | None,
        answered_at: datetime,
        help_request_id: UUID | None,
        version: int,
    ) -> None:
        fields = {
            "status": answer.status,
            "country": answer.country,
            "city": answer.city,
            "answered_by": answered_by,
            "for_association": for_association,
            "answered_at": answered_at,
            "help_request_id": help_request_id,
            "version": version,
        }
        record = self.session.get(SafetyAnswerRecord, (advisory_id, answer.party))
        if record is not None:
            for name, value in fields.items():
                setattr(record, name, value)
            return
        try:
            with self.session.begin_nested():
                self.session.add(SafetyAnswerRecord(advisory_id=advisory_id, party=answer.party, **fields))
        except IntegrityError:
            raise Conflict(
                "an answer for the same person or association came at the same moment; send yours again"
            ) from None


def _person(record: AdvisoryPersonRecord) -> Person:
    return Person(
        id=record.id,
        country=record.country,
        city=record.city,
        lat=record.lat,
        lon=record.lon,
        association_ids=frozenset(UUID(value) for value in record.association_ids),
        receives_advisories=record.receives_advisories,
    )


class PeopleRepository:
    """Individuals as the registry's events describe them, and their choice to receive advisories."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, individual_id: UUID) -> Person | None:
        record = self.session.get(AdvisoryPersonRecord, individual_id)
        return None if record is None else _person(record)

    def project(self, person: Person, *, version: int) -> bool:
        """Keep the newer version only (an older or repeated event changes nothing); the choice stays."""
        record = self._record(person.id)
        if record.version >= version:
            return False
        record.country, record.city, record.lat, record.lon = person.country, person.city, person.lat, person.lon
        record.association_ids = sorted(str(value) for value in person.association_ids)
        record.version = version
        return True

    def _record(self, individual_id: UUID) -> AdvisoryPersonRecord:
        """The person's row, made (with an unknown place, version 0) if there is none; when the registry's event and
        the person's choice arrive at once, the second to insert finds the first's row."""
        record = self.session.get(AdvisoryPersonRecord, individual_id)
        if record is not None:
            return record
        try:
            with self.session.begin_nested():
                record = AdvisoryPersonRecord(
                    id=individual_id, country="", city="", association_ids=[], receives_advisories=False, version=0
                )
                self.session.add(record)
            return record
        except IntegrityError:
            return self.session.get(AdvisoryPersonRecord, individual_id, populate_existing=True)

    def forget(self, individual_id: UUID) -> None:
        self.session.execute(delete(AdvisoryPersonRecord).where(AdvisoryPersonRecord.id == individual_id))

    def choose(self, individual_id: UUID, *, receive: bool) -> None:
        """Before the registry's event arrives, the choice is kept with an unknown place."""
        self._record(individual_id).receives_advisories = receive

    def receiving(self, countries: list[str]) -> list[Person]:
        """Those who asked to receive advisories: in these countries, or (none given) wherever they are located."""
        where = [AdvisoryPersonRecord.receives_advisories.is_(True)]
        where.append(
            AdvisoryPersonRecord.country.in_(countries) if countries else AdvisoryPersonRecord.lat.is_not(None)
        )
        return [_person(record) for record in self.session.scalars(select(AdvisoryPersonRecord).where(*where))]
