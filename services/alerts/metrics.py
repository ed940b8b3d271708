"""Alerts' own figures for /metrics (servicekit/metrics.py), read on each scrape: help requests by status, the age
of the oldest one nobody has claimed per urgency (deploy/monitoring/alerts.yaml warns on urgent ones), and the time
from raising to the first claim as a histogram (the dashboard's p50 and p95 per urgency)."""

from collections.abc import Iterable
from typing import get_args

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString
from sqlalchemy import Engine, func, select

from contracts.alerts import HelpUrgency
from servicekit.sqltypes import utcnow
from services.alerts.db import HelpRequestRecord, TimelineRecord

# Upper bounds in seconds: a minute, 5 and 15 minutes (the first escalation), half an hour, 1 and 2 hours (the second),
# 6 hours, a day (the third) and 3 days; p50 and p95 are interpolated within them.
TIME_TO_CLAIM_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0, 259200.0)


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
    time_to_claim = HistogramMetricFamily(
        "diasporahub_help_requests_time_to_claim_seconds",
        "Time from raising a help request to its first claim, per urgency, over every request claimed",
        labels=["urgency"],
    )
    for urgency in get_args(HelpUrgency):
        waits = [
            (claimed_at - created_at).total_seconds() for kind, created_at, claimed_at in claims if kind == urgency
        ]
        buckets = [(floatToGoString(bound), sum(wait <= bound for wait in waits)) for bound in TIME_TO_CLAIM_BUCKETS]
        time_to_claim.add_metric([urgency], buckets=[*buckets, ("+Inf", len(waits))], sum_value=sum(waits))
    return [statuses, ages, time_to_claim]
