"""The delivery queue: one row per (message, recipient, channel), claimed by one sender at a time."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Update,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
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


def _come_due(now: BindParameter) -> tuple[ColumnElement[bool], ...]:
    """A queued row whose next attempt is due, leased or not: what a claim looks among, and a look finds."""
    return _deliveries.c.state == "queued", _deliveries.c.next_attempt_at <= now


def _claim(*, skip_locked: bool) -> Update:
    """Built once (per dialect), with the claim's values as parameters: a sender claims every few rows."""
    c = _deliveries.c
    now = bindparam("claim_now", type_=c.next_attempt_at.type)
    lease_over = or_(c.lease_until.is_(None), c.lease_until < now)
    due = select(c.id).where(*_come_due(now), lease_over).order_by(c.next_attempt_at).limit(bindparam("claim_limit"))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(_deliveries)
        .where(c.id.in_(due.scalar_subquery()), lease_over)
        .values(lease_token=bindparam("claim_token"), attempts=c.attempts + 1,
                lease_until=bindparam("claim_until", type_=c.lease_until.type))
    )  # fmt: skip


_CLAIM, _CLAIM_SKIPPING_LOCKED = _claim(skip_locked=False), _claim(skip_locked=True)
# Read without taking a write lock.
_ANY_DUE = (
    select(_deliveries.c.id).where(*_come_due(bindparam("now", type_=_deliveries.c.next_attempt_at.type))).limit(1)
)


def any_due(connection: Connection, now: datetime) -> bool:
    """Whether a claim at `now` may find something: never False when it would (a row under another sender's lease
    makes it True)."""
    return connection.execute(_ANY_DUE, {"now": now}).first() is not None


_CLAIMED = select(_deliveries).where(_deliveries.c.lease_token == bindparam("claim_token"))
_LEASED = select(_deliveries).where(_deliveries.c.id.in_(bindparam("ids", expanding=True))).with_for_update()


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

    def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Row]:
        """Due rows whose lease (if any) ran out, leased to this caller in one UPDATE; SKIP LOCKED on PostgreSQL
        lets concurrent senders take different rows, SQLite's single writer serialises them. Read as rows in Core,
        as `leased` reads them: the ORM's objects cost more than the rest of claiming, for every delivery.

        The attempt is counted here, before anything is sent, so `attempts` is how many times a delivery may have
        gone out even when a sender dies (or its settling fails) between sending and settling."""
        token = str(uuid4())
        connection = self.session.connection()
        claim = _CLAIM_SKIPPING_LOCKED if connection.dialect.name == "postgresql" else _CLAIM
        connection.execute(claim, {"claim_now": now, "claim_limit": limit, "claim_token": token,
                                   "claim_until": now + lease})  # fmt: skip
        return connection.execute(_CLAIMED, {"claim_token": token}).all()

    def leased(self, tokens: dict[UUID, str]) -> dict[UUID, Row]:
        """The rows still leased with these tokens, read in one query (a row whose lease was lost is left out) and
        locked until the transaction ends."""
        found: dict[UUID, Row] = {}
        ids = list(tokens)
        connection = self.session.connection()
        for start in range(0, len(ids), CHUNK):
            for row in connection.execute(_LEASED, {"ids": ids[start : start + CHUNK]}):
                if row.lease_token == tokens[row.id] and row.state == "queued":
                    found[row.id] = row
        return found

    def mark_sent(self, ids: list[UUID], now: datetime) -> None:
        """All at once, in Core: the ORM's flush of each row cost three times the rest of settling a batch."""
        if ids:
            self.session.connection().execute(_MARK_SENT, {"ids": ids, "now": now})

    def mark_failed_attempt(self, delivery_id: UUID, error: str, next_attempt_at: datetime | None) -> None:
        """Another attempt at `next_attempt_at`, or failed for good when it is None (the attempt was counted when
        it was claimed)."""
        state = "queued" if next_attempt_at is not None else "failed"
        self.session.connection().execute(
            update(_deliveries)
            .where(_deliveries.c.id == delivery_id)
            .values(last_error=error[:2000], lease_token=None, lease_until=None, state=state,
                    next_attempt_at=next_attempt_at)
        )  # fmt: skip

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
