"""The `Idempotency-Key`s of posts, conversations and broadcasts, per account."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.messaging.db import IdempotencyRecord

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class IdempotencyKeyRepository:
    def __init__(self, session: Session):
        self.session = session

    def claim(
        self, *, account_id: UUID, key: str, operation: str, fingerprint: str, result_id: UUID, now: datetime
    ) -> IdempotencyRecord:
        """The key's row: this request's if the key is new, else the first request's. On PostgreSQL a concurrent
        request with the same key waits here until the first one commits (then gets its row) or rolls back."""
        insert = _INSERTS[self.session.get_bind().dialect.name](IdempotencyRecord)
        self.session.execute(
            insert.values(account_id=account_id, key=key, operation=operation, fingerprint=fingerprint,
                          result_id=result_id, created_at=now).on_conflict_do_nothing()
        )  # fmt: skip
        return self.session.get(IdempotencyRecord, (account_id, key), populate_existing=True)

    def forget_before(self, cutoff: datetime) -> int:
        """Keys older than `cutoff` are forgotten: a retry that late makes a new post."""
        return self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)).rowcount
