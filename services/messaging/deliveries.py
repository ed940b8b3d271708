"""The delivery queue: one row per (message, recipient, channel), claimed by one sender at a time."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from contracts.messaging import DeliveryV1
from services.messaging.db import DeliveryRecord

CHUNK = 500
_deliveries = DeliveryRecord.__table__
_MARK_SENT = (
    update(_deliveries)
    .where(_deliveries.c.id.in_(bindparam("ids", expanding=True)))
    .values(state="sent", sent_at=bindparam("now", type_=_deliveries.c.sent_at.type), lease_token=None,
            lease_until=None, next_attempt_at=None)
)  # fmt: skip


def delivery_of(record: DeliveryRecord) -> DeliveryV1:
    return DeliveryV1(
        id=record.id,
        message_id=record.message_id,
        channel=record.channel,
        state=record.state,
        attempts=record.attempts,
        next_attempt_at=record.next_attempt_at if record.state == "queued" else None,
        last_error=record.last_error,
        sent_at=record.sent_at,
        created_at=record.created_at,
    )


class DeliveryRepository:
    def __init__(self, session: Session):
        self.session = session

    def queue(self, rows: list[dict]) -> None:
        """Each row: message_id, recipient, channel, next_attempt_at, give_up_at, created_at, reference, digest."""
        prepared = [{"id": uuid4(), "state": "queued", "attempts": 0} | row for row in rows]
        for start in range(0, len(prepared), CHUNK):
            self.session.execute(insert(DeliveryRecord), prepared[start : start + CHUNK])

    def drop_queued(self, recipient: str) -> int:
        """A recipient who is gone (a person who deleted their account) is written to no more."""
        return self.session.execute(
            delete(DeliveryRecord).where(DeliveryRecord.recipient == recipient, DeliveryRecord.state == "queued")
        ).rowcount

    def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[DeliveryRecord]:
        """Due rows whose lease (if any) ran out, leased to this caller in one UPDATE; SKIP LOCKED on PostgreSQL
        lets concurrent senders take different rows, SQLite's single writer serialises them.

        The attempt is counted here, before anything is sent, so `attempts` is how many times a delivery may have
        gone out even when a sender dies (or its settling fails) between sending and settling."""
        token = str(uuid4())
        due = (
            select(DeliveryRecord.id)
            .where(
                DeliveryRecord.state == "queued",
                DeliveryRecord.next_attempt_at <= now,
                or_(DeliveryRecord.lease_until.is_(None), DeliveryRecord.lease_until < now),
            )
            .order_by(DeliveryRecord.next_attempt_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        self.session.execute(
            update(DeliveryRecord)
            .where(
                DeliveryRecord.id.in_(due.scalar_subquery()),
                or_(DeliveryRecord.lease_until.is_(None), DeliveryRecord.lease_until < now),
            )
            .values(lease_token=token, lease_until=now + lease, attempts=DeliveryRecord.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(select(DeliveryRecord).where(DeliveryRecord.lease_token == token)))

    def leased(self, tokens: dict[UUID, str]) -> dict[UUID, DeliveryRecord]:
        """The rows still leased with these tokens, read in one query (a row whose lease was lost is left out)."""
        found: dict[UUID, DeliveryRecord] = {}
        ids = list(tokens)
        for start in range(0, len(ids), CHUNK):
            for record in self.session.scalars(
                select(DeliveryRecord).where(DeliveryRecord.id.in_(ids[start : start + CHUNK])).with_for_update()
            ):
                if record.lease_token == tokens[record.id] and record.state == "queued":
                    found[record.id] = record
        return found

    def mark_sent(self, ids: list[UUID], now: datetime) -> None:
        """All at once, in Core: the ORM's flush of each row cost three times the rest of settling a batch."""
        if ids:
            self.session.connection().execute(_MARK_SENT, {"ids": ids, "now": now})

    @staticmethod
    def mark_failed_attempt(record: DeliveryRecord, error: str, next_attempt_at: datetime | None) -> None:
        """Another attempt at `next_attempt_at`, or failed for good when it is None (the attempt was counted when
        it was claimed)."""
        record.last_error = error[:2000]
        record.lease_token, record.lease_until = None, None
        if next_attempt_at is None:
            record.state, record.next_attempt_at = "failed", None
        else:
            record.next_attempt_at = next_attempt_at

    def of_recipient(self, recipient: str, state: str | None, limit: int = 200) -> list[DeliveryV1]:
        query = select(DeliveryRecord).where(DeliveryRecord.recipient == recipient)
        if state is not None:
            query = query.where(DeliveryRecord.state == state)
        query = query.order_by(DeliveryRecord.created_at.desc()).limit(limit)
        return [delivery_of(record) for record in self.session.scalars(query)]

    def failed_of_message(self, message_id: UUID) -> int:
        return len(
            self.session.scalars(
                select(DeliveryRecord.id).where(
                    DeliveryRecord.message_id == message_id, DeliveryRecord.state == "failed"
                )
            ).all()
        )
