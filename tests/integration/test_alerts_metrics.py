"""Alerts' figures for /metrics (services/alerts/metrics.py), read from its tables on SQLite and PostgreSQL."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from servicekit.sqltypes import utcnow
from services.alerts.db import Base, HelpRequestRecord, TimelineRecord
from services.alerts.metrics import help_requests_by_status


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def help_request(status: str, urgency: str, minutes_ago: float) -> HelpRequestRecord:
    return HelpRequestRecord(
        id=uuid.uuid4(), reference=f"DH-2026-{uuid.uuid4().hex[:6]}", status=status, category="medical",
        urgency=urgency, severity="severe", country="IN", city="Pune", summary="help", languages=["lus"],
        on_behalf_of_someone_else=False, held_for_cell=False, ring="near", round=1,
        created_at=utcnow() - timedelta(minutes=minutes_ago), version=1,
    )  # fmt: skip


def figures(engine) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in help_requests_by_status(engine)
        for sample in family.samples
    }


def test_help_requests_by_status_the_oldest_unclaimed_per_urgency_and_the_time_to_first_claim(engine):
    claimed = help_request("claimed", "immediate", minutes_ago=30)
    with Session(engine) as session:
        session.add_all([claimed, help_request("open", "immediate", 20), help_request("open", "immediate", 10)])
        session.add_all([help_request("resolved", "future", 60)])
        session.flush()
        for minutes_after, kind in ((5, "claimed"), (8, "reassigned"), (9, "claimed")):
            at = claimed.created_at + timedelta(minutes=minutes_after)
            session.add(TimelineRecord(help_request_id=claimed.id, at=at, kind=kind, actor="association:x"))
        session.commit()

    found = figures(engine)

    assert found[("diasporahub_help_requests", (("status", "open"),))] == 2
    assert found[("diasporahub_help_requests", (("status", "claimed"),))] == 1
    assert found[("diasporahub_help_requests", (("status", "resolved"),))] == 1
    oldest = found[("diasporahub_help_requests_oldest_unclaimed_age_seconds", (("urgency", "immediate"),))]
    assert 20 * 60 <= oldest < 21 * 60
    assert found[("diasporahub_help_requests_oldest_unclaimed_age_seconds", (("urgency", "future"),))] == 0
    assert found[("diasporahub_help_requests_time_to_claim_seconds_count", (("urgency", "immediate"),))] == 1
    assert found[("diasporahub_help_requests_time_to_claim_seconds_sum", (("urgency", "immediate"),))] == 5 * 60
    assert found[("diasporahub_help_requests_time_to_claim_seconds_count", (("urgency", "future"),))] == 0
    claimed_within = {
        le: found[("diasporahub_help_requests_time_to_claim_seconds_bucket", (("le", le), ("urgency", "immediate")))]
        for le in ("60.0", "300.0", "900.0", "+Inf")
    }
    assert claimed_within == {"60.0": 0, "300.0": 1, "900.0": 1, "+Inf": 1}
