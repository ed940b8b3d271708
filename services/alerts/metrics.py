"""Alerts' own figures for /metrics (servicekit/metrics.py), read on each scrape: help requests by status, the age
of the oldest one nobody has claimed per urgency (deploy/monitoring/alerts.yaml warns on urgent ones), and the time
from raising to the first claim."""

from collections.abc import Iterable
from typing import get_args

from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, func, select

from contracts.alerts import HelpUrgency
from servicekit.sqltypes import utcnow
from services.alerts.db import HelpRequestRecord, TimelineRecord


def help_requests_by_status(engine: Engine) -> Iterable[Metric]:
    with engine.connect() as connection:
        by_status = connection.execute(
            select(HelpRequestRecord.status, func.count()).group_by(HelpRequestRecord.status)
        ).all()
        oldest_unclaimed = dict(
            connection.execute(
                select(HelpRequestRecord.urgency, func.min(HelpRequestRecord.created_at))
                .where(HelpRequestRecord.status == "open")
                .group_by(HelpRequestRecord.urgency)
            ).all()
        )
        first_claims = (
            select(TimelineRecord.help_request_id, func.min(TimelineRecord.at).label("claimed_at"))
            .where(TimelineRecord.kind == "claimed")
            .group_by(TimelineRecord.help_request_id)
            .subquery()
        )
        claims = connection.execute(
            select(HelpRequestRecord.urgency, HelpRequestRecord.created_at, first_claims.c.claimed_at).join(
                first_claims, first_claims.c.help_request_id == HelpRequestRecord.id
            )
        ).all()
    statuses = GaugeMetricFamily("diasporahub_help_requests", "Help requests by status", labels=["status"])
    for status, count in by_status:
        statuses.add_metric([status], count)
    now = utcnow()
    ages = GaugeMetricFamily(
        "diasporahub_help_requests_oldest_unclaimed_age_seconds",
        "Age of the oldest open help request nobody has claimed, per urgency (0 when none waits)",
        labels=["urgency"],
    )
    for urgency in get_args(HelpUrgency):
        oldest = oldest_unclaimed.get(urgency)
        ages.add_metric([urgency], 0.0 if oldest is None else (now - oldest).total_seconds())
    time_to_claim = SummaryMetricFamily(
        "diasporahub_help_requests_time_to_claim_seconds",
        "Time from raising a help request to its first claim, per urgency, over every request claimed",
        labels=["urgency"],
    )
    for urgency in get_args(HelpUrgency):
        waits = [
            (claimed_at - created_at).total_seconds() for kind, created_at, claimed_at in claims if kind == urgency
        ]
        time_to_claim.add_metric([urgency], count_value=len(waits), sum_value=sum(waits))
    return [statuses, ages, time_to_claim]
