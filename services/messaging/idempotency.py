"""A retried post, conversation or broadcast with the same `Idempotency-Key` is made once: the retry gets what the
first request made. The key is the client's, per account; reusing it for a different request is refused."""

import hashlib
import json
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from contracts.accounts import Principal
from contracts.errors import Invalid


def fingerprint(operation: str, draft: BaseModel, **about) -> str:
    document = {"operation": operation, "draft": draft.model_dump(mode="json")} | {k: str(v) for k, v in about.items()}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def earlier_result(
    work, *, principal: Principal, key: str | None, new_id: UUID, now: datetime, operation: str, draft: BaseModel,
    **about,
) -> UUID | None:  # fmt: skip
    """The id the first request with this key made, or None when this request is the first (or has no key): then
    the key is remembered with `new_id` in this request's transaction, so a failed request leaves no key behind.
    `operation`, `draft` and `about` (the conversation posted to…) tell one request from another."""
    if key is None:
        return None
    request = fingerprint(operation, draft, **about)
    record = work.idempotency.claim(account_id=principal.account_id, key=key, operation=operation,
                                    fingerprint=request, result_id=new_id, now=now)  # fmt: skip
    if record.fingerprint != request:
        raise Invalid("Idempotency-Key: this key was used for a different request; send a new key for a new request")
    return None if record.result_id == new_id else record.result_id


def forget_old_keys(*, unit_of_work, now: datetime, kept: timedelta) -> int:
    """Keys are kept for `kept` (MESSAGING_IDEMPOTENCY_KEY_HOURS), long enough for any client's retries."""
    with unit_of_work() as work:
        return work.idempotency.forget_before(now - kept)
