"""What messaging's database says the helpers' inboxes hold: every help request raised and every broadcast sent by
the load, each once. Read from the database, because the inbox API shows only the newest 200 entries."""

import time
from collections import Counter

from sqlalchemy import create_engine, text

from services.messaging.domain import association_party
from tests.chaos.load import Answer, Stage

COPIES = text(
    "SELECT inbox_items.owner, messages.kind, messages.subject, broadcasts.reference FROM inbox_items"
    " JOIN messages ON messages.id = inbox_items.message_id"
    " LEFT JOIN broadcasts ON broadcasts.message_id = messages.id"
)


def copies(database_url: str) -> Counter:
    """(owner, help request reference or broadcast subject) → how many inbox entries."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(COPIES).all()
    finally:
        engine.dispose()
    return Counter(
        (owner, reference if kind == "notification" and reference else subject)
        for owner, kind, subject, reference in rows
    )


def inbox_copies_lost_and_duplicated(
    answers: list[Answer], stage: Stage, database_url: str, settle_seconds: float
) -> tuple[list[tuple], list[tuple]]:
    """Every accepted help request (claimed or not: it reached its claimer with the others) and every accepted
    broadcast is in each helper's inbox within `settle_seconds`; none is there twice, accepted or not."""
    owners = [association_party(association_id) for _, association_id in stage.helpers]
    raised = [(answer, answer.body["reference"]) for answer in answers
              if answer.operation == "raise help" and answer.accepted]  # fmt: skip
    broadcasts = [(answer, answer.key) for answer in answers if answer.operation == "broadcast"]
    deadline = time.monotonic() + settle_seconds
    while True:
        found = copies(database_url)
        lost = [
            (answer.fault, "help told" if answer.operation == "raise help" else "broadcast", f"{key} to {owner}")
            for answer, key in raised + broadcasts
            for owner in owners
            if answer.accepted and found[(owner, key)] == 0
        ]
        if not lost or time.monotonic() > deadline:
            break
        time.sleep(2)
    duplicated = [
        (answer.fault, "help told" if answer.operation == "raise help" else "broadcast", f"{key} to {owner}")
        for answer, key in raised + broadcasts
        for owner in owners
        if found[(owner, key)] > 1
    ]
    return lost, duplicated
