"""Help requests in SQL. A step that must happen once (a claim, a round of matching or escalation) is one
conditional UPDATE: of two processes trying at once, the one whose UPDATE matched no row lost."""

from dataclasses import asdict, fields
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from services.alerts.db import (
    HelpRequestRecord,
    NotificationRecord,
    ReferenceNumber,
    RequesterBlockRecord,
    TimelineRecord,
    ViewRecord,
)
from services.alerts.help_requests.domain import Candidate, Case
from services.alerts.help_requests.model import HelpRequest, Notification, TimelineStep

MAX_LISTED = 200
SEALED_COLUMNS = ("description_sealed", "location_sealed", "contact_sealed")


class HelpRequestRepository:
    def __init__(self, session: Session):
        self.session = session

    def next_reference_number(self, year: int) -> int:
        given = ReferenceNumber(year=year)
        self.session.add(given)
        self.session.flush()
        return given.number

    def add(self, request: HelpRequest) -> None:
        self.session.add(HelpRequestRecord(**asdict(request)))
        self.session.flush()

    def get(self, help_request_id: UUID) -> HelpRequest | None:
        record = self.session.get(HelpRequestRecord, help_request_id, populate_existing=True)
        return None if record is None else _help_request(record)

    def id_of_reference(self, reference: str) -> UUID | None:
        return self.session.scalar(select(HelpRequestRecord.id).where(HelpRequestRecord.reference == reference))

    def case(self, record: HelpRequest) -> Case:
        return Case(
            id=record.id,
            reference=record.reference,
            status=record.status,
            urgency=record.urgency,
            held_for_cell=record.held_for_cell,
            claimed_by=record.claimed_by,
            requester_account_id=record.requester_account_id,
            notified=frozenset(self.notified_ids(record.id)),
        )

    def notified_ids(self, help_request_id: UUID) -> set[UUID]:
        query = select(NotificationRecord.association_id).where(NotificationRecord.help_request_id == help_request_id)
        return set(self.session.scalars(query))

    def notifications(self, help_request_id: UUID) -> list[Notification]:
        query = (
            select(NotificationRecord)
            .where(NotificationRecord.help_request_id == help_request_id)
            # The id last: associations at one distance in one round keep one order, even after a restore.
            .order_by(NotificationRecord.notified_at, NotificationRecord.distance_km, NotificationRecord.association_id)
        )
        return [_copy(Notification, record) for record in self.session.scalars(query)]

    def acknowledge(self, help_request_id: UUID, association_id: UUID, now: datetime) -> bool:
        """True the first time the association acknowledges it."""
        table = NotificationRecord
        return (
            self.session.execute(
                update(table)
                .where(
                    table.help_request_id == help_request_id,
                    table.association_id == association_id,
                    table.acknowledged_at.is_(None),
                )
                .values(acknowledged_at=now)
            ).rowcount
            == 1
        )

    def decline(self, help_request_id: UUID, association_id: UUID, now: datetime, reason: str) -> None:
        table = NotificationRecord
        self.session.execute(
            update(table)
            .where(table.help_request_id == help_request_id, table.association_id == association_id)
            .values(declined_at=now, decline_reason=reason)
        )

    def add_notifications(self, help_request_id: UUID, ring: str, candidates: list[Candidate], now: datetime) -> None:
        self.session.add_all(
            NotificationRecord(
                help_request_id=help_request_id, association_id=candidate.association_id, name=candidate.name,
                ring=ring, distance_km=candidate.distance_km, notified_at=now,
            )
            for candidate in candidates
        )  # fmt: skip

    def timeline(self, help_request_id: UUID) -> list[TimelineStep]:
        query = (
            select(TimelineRecord).where(TimelineRecord.help_request_id == help_request_id).order_by(TimelineRecord.id)
        )
        return [_copy(TimelineStep, record) for record in self.session.scalars(query)]

    def add_step(self, help_request_id: UUID, *, at: datetime, kind: str, actor: str, note: str | None = None) -> None:
        """`note` is sealed already (it may say who or where)."""
        self.session.add(
            TimelineRecord(help_request_id=help_request_id, at=at, kind=kind, actor=actor, note_sealed=note)
        )

    def record_view(self, help_request_id: UUID, *, account_id: UUID | None, viewer: str, at: datetime) -> None:
        self.session.add(
            ViewRecord(help_request_id=help_request_id, viewer_account_id=account_id, viewer=viewer, viewed_at=at)
        )

    def viewers(self, help_request_id: UUID) -> list[tuple[str, datetime]]:
        query = select(ViewRecord).where(ViewRecord.help_request_id == help_request_id).order_by(ViewRecord.id)
        return [(view.viewer, view.viewed_at) for view in self.session.scalars(query)]

    def raised_since(self, *, since: datetime, account_id: UUID | None = None, address_hash: str | None = None) -> int:
        table = HelpRequestRecord
        who = table.requester_account_id == account_id if account_id is not None else None
        if address_hash is not None:
            who = table.requester_address_hash == address_hash
        if who is None:
            return 0
        return self.session.scalar(select(func.count()).where(who, table.created_at >= since))

    def is_blocked(self, *, account_id: UUID | None, address_hash: str | None) -> bool:
        conditions = []
        if account_id is not None:
            conditions.append(RequesterBlockRecord.account_id == account_id)
        if address_hash is not None:
            conditions.append(RequesterBlockRecord.address_hash == address_hash)
        if not conditions:
            return False
        return self.session.scalar(select(func.count()).where(or_(*conditions))) > 0

    def add_block(
        self, request: HelpRequest, *, account: bool, address: bool, reason: str, blocked_by: UUID, now: datetime
    ) -> None:
        self.session.add(
            RequesterBlockRecord(
                account_id=request.requester_account_id if account else None,
                address_hash=request.requester_address_hash if address else None,
                help_request_id=request.id, reason=reason, blocked_by=blocked_by, blocked_at=now,
            )
        )  # fmt: skip

    def change(self, case: Case, **values) -> int | None:
        """Apply `values` if the request is still as `case` saw it (status, holder, held for the Cell); the new
        version, or None if someone changed it first."""
        table = HelpRequestRecord
        changed = self.session.execute(
            update(table)
            .where(
                table.id == case.id,
                table.status == case.status,
                _same(table.claimed_by, case.claimed_by),
                table.held_for_cell.is_(case.held_for_cell),
            )
            .values(version=table.version + 1, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        return self._version(case.id) if changed == 1 else None

    def take_round(self, help_request_id: UUID, *, round: int, now: datetime, lease_until: datetime) -> bool:
        """Take the next round of matching of an open, released request that is due: True for exactly one taker."""
        table = HelpRequestRecord
        return (
            self.session.execute(
                update(table)
                .where(
                    table.id == help_request_id,
                    table.round == round,
                    table.status == "open",
                    table.held_for_cell.is_(False),
                    table.due_at <= now,
                )
                .values(round=round + 1, due_at=lease_until)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )

    def finish_round(
        self, help_request_id: UUID, *, round: int, ring: str, due_at: datetime | None, steps: int
    ) -> int | None:
        """Record where the round got to, if it is still the request's latest and still open; the new version
        (`steps` later: one per event of the round), or None."""
        table = HelpRequestRecord
        changed = self.session.execute(
            update(table)
            .where(table.id == help_request_id, table.round == round, table.status == "open")
            .values(ring=ring, due_at=due_at, version=table.version + steps)
            .execution_options(synchronize_session=False)
        ).rowcount
        return self._version(help_request_id) if changed == 1 else None

    def due_now(self, help_request_id: UUID, now: datetime) -> None:
        """An open request escalates at the next tick instead of at its deadline."""
        table = HelpRequestRecord
        self.session.execute(
            update(table)
            .where(table.id == help_request_id, table.status == "open", table.due_at > now)
            .values(due_at=now)
        )

    def due(self, now: datetime, limit: int) -> list[tuple[UUID, int]]:
        table = HelpRequestRecord
        query = (
            select(table.id, table.round)
            .where(table.status == "open", table.held_for_cell.is_(False), table.due_at <= now)
            .order_by(table.due_at)
            .limit(limit)
        )
        return [(row.id, row.round) for row in self.session.execute(query)]

    def listed(
        self,
        *,
        status: str | None,
        requester_account_id: UUID | None = None,
        association_ids: set[UUID] | None = None,
    ) -> list[HelpRequest]:
        """Newest first: everyone's (neither filter), a requester's, or those told to (or taken by) associations."""
        table = HelpRequestRecord
        query = select(table).order_by(table.created_at.desc()).limit(MAX_LISTED)
        if status is not None:
            query = query.where(table.status == status)
        if requester_account_id is not None:
            query = query.where(table.requester_account_id == requester_account_id)
        if association_ids is not None:
            told = select(NotificationRecord.help_request_id).where(
                NotificationRecord.association_id.in_(association_ids)
            )
            parties = [f"association:{association_id}" for association_id in association_ids]
            query = query.where(or_(table.claimed_by.in_(parties), table.id.in_(told) & table.held_for_cell.is_(False)))
        return [_help_request(record) for record in self.session.scalars(query)]

    def closed_before(self, cutoff: datetime, limit: int) -> list[UUID]:
        table = HelpRequestRecord
        query = (
            select(table.id).where(table.closed_at <= cutoff, table.purged_at.is_(None)).order_by(table.closed_at)
        ).limit(limit)
        return list(self.session.scalars(query))

    def purge(self, help_request_id: UUID, now: datetime) -> None:
        """Forget who and where: what could find the person, the place, what they and the helpers wrote."""
        self.session.execute(
            update(HelpRequestRecord)
            .where(HelpRequestRecord.id == help_request_id)
            .values(
                description_sealed=None, location_sealed=None, contact_sealed=None, summary="", city=None,
                approximate_lat=None, approximate_lon=None, follow_key_hash=None, requester_address_hash=None,
                purged_at=now,
            )
        )  # fmt: skip
        self.session.execute(
            update(TimelineRecord).where(TimelineRecord.help_request_id == help_request_id).values(note_sealed=None)
        )

    def sealed_after(self, after: UUID | None, limit: int) -> list[tuple[UUID, dict[str, str | None]]]:
        """A page of help requests (by id) with their sealed values, for resealing."""
        table = HelpRequestRecord
        query = select(table.id, *(getattr(table, name) for name in SEALED_COLUMNS)).order_by(table.id).limit(limit)
        if after is not None:
            query = query.where(table.id > after)
        return [(row.id, {name: getattr(row, name) for name in SEALED_COLUMNS}) for row in self.session.execute(query)]

    def reseal(self, help_request_id: UUID, values: dict[str, str | None], notes: dict[int, str]) -> None:
        if values:
            self.session.execute(
                update(HelpRequestRecord).where(HelpRequestRecord.id == help_request_id).values(values)
            )
        for step_id, note in notes.items():
            self.session.execute(update(TimelineRecord).where(TimelineRecord.id == step_id).values(note_sealed=note))

    def sealed_notes(self, help_request_id: UUID) -> dict[int, str]:
        query = select(TimelineRecord.id, TimelineRecord.note_sealed).where(
            TimelineRecord.help_request_id == help_request_id, TimelineRecord.note_sealed.is_not(None)
        )
        return {row.id: row.note_sealed for row in self.session.execute(query)}

    def _version(self, help_request_id: UUID) -> int:
        return self.session.scalar(select(HelpRequestRecord.version).where(HelpRequestRecord.id == help_request_id))


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _copy(kind, record):
    return kind(**{field.name: getattr(record, field.name) for field in fields(kind)})


def _help_request(record: HelpRequestRecord) -> HelpRequest:
    return _copy(HelpRequest, record)
