"""Sent outbox rows, which hold what events said about people, are purged on the registry's schedule (issue 8,
point 12), on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from servicekit.outbox import TABLE_NAME
from services.registry.db import Base
from tests.registry_fakes import DatabaseRegistry, registry_worker

PERSON = {"name": "Lalremruati", "country": "AE", "city": "Dubai", "languages": ["lus"], "email": "ruati@example.org"}


@pytest.fixture
def registry(database_url):
    registry = DatabaseRegistry(database_url)
    yield registry
    registry.close()


def test_sent_events_older_than_the_kept_hours_are_purged_and_unsent_ones_kept(registry, monkeypatch):
    monkeypatch.setenv("REGISTRY_SENT_EVENTS_KEPT_HOURS", "6")
    now = datetime.now(UTC)
    service = registry_worker(registry, clock=lambda: now)
    for email in ("old@example.org", "recent@example.org", "unsent@example.org"):
        person = registry.sign_in(email)
        service.register_individual(person.token, PERSON | {"email": email})
    outbox = Base.metadata.tables[TABLE_NAME]
    with registry.engine.begin() as connection:
        old, recent, unsent = connection.scalars(select(outbox.c.id).order_by(outbox.c.id)).all()[-3:]
        connection.execute(update(outbox).where(outbox.c.id == old).values(sent_at=now - timedelta(hours=7)))
        connection.execute(update(outbox).where(outbox.c.id == recent).values(sent_at=now - timedelta(hours=5)))

    service.prune_sent_events()

    with registry.engine.connect() as connection:
        left = set(connection.scalars(select(outbox.c.id)))
    assert old not in left
    assert {recent, unsent} <= left
