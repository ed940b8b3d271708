"""What alerts' database says of the load's help requests: each accepted one is there, every matched helper is
recorded as told of it (once: the table's key), and each accepted claim is the helper's that made it. Doubles as a
user sees them (one request told twice) are looked for in messaging's inboxes (inboxes.py)."""

import time
import uuid
from collections.abc import Iterable

from sqlalchemy import create_engine, select

from services.alerts.db import HelpRequestRecord, NotificationRecord
from tests.chaos.load import Answer, Stage


def stored(database_url: str, ids: Iterable[uuid.UUID]) -> tuple[dict, set]:
    """For those of the help requests stored: id → who claimed it, and (id, association id) of each told."""
    ids = list(ids)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(HelpRequestRecord.id, HelpRequestRecord.claimed_by).where(HelpRequestRecord.id.in_(ids))
            ).all()
            told = connection.execute(
                select(NotificationRecord.help_request_id, NotificationRecord.association_id).where(
                    NotificationRecord.help_request_id.in_(ids)
                )
            ).all()
    finally:
        engine.dispose()
    return dict(rows), set(told)


def help_requests_lost(answers: list[Answer], stage: Stage, database_url: str, settle_seconds: float) -> list[tuple]:
    """(fault, what, key) of each accepted help request missing, or not recorded as told to a helper within
    `settle_seconds`, or whose accepted claim is not recorded."""
    raised = [answer for answer in answers if answer.operation == "raise help" and answer.accepted]
    claims = {answer.key for answer in answers if answer.operation == "claim help" and answer.accepted}
    claimer = stage.helpers[1][1]
    helpers = [uuid.UUID(association_id) for _, association_id in stage.helpers]
    deadline = time.monotonic() + settle_seconds
    while True:
        claimed_by, told = stored(database_url, (uuid.UUID(answer.key) for answer in raised))
        lost = []
        for answer in raised:
            request_id = uuid.UUID(answer.key)
            if request_id not in claimed_by:
                lost.append((answer.fault, "help stored", answer.key))
            lost += [(answer.fault, "help told (alerts)", f"{answer.key} to {helper}")
                     for helper in helpers if (request_id, helper) not in told]  # fmt: skip
            if answer.key in claims and claimer not in (claimed_by.get(request_id) or ""):
                lost.append((answer.fault, "claim", answer.key))
        if not lost or time.monotonic() > deadline:
            return lost
        time.sleep(2)
