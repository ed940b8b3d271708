"""Messaging's own figures for /metrics (servicekit/metrics.py): deliveries by channel and state, read on each
scrape."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, func, select

from services.messaging.db import DeliveryRecord


def deliveries_by_channel_and_state(engine: Engine) -> Iterable[Metric]:
    deliveries = GaugeMetricFamily(
        "diasporahub_messaging_deliveries",
        "Deliveries (e-mail, webhook) by channel and state",
        labels=["channel", "state"],
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(DeliveryRecord.channel, DeliveryRecord.state, func.count()).group_by(
                DeliveryRecord.channel, DeliveryRecord.state
            )
        ).all()
    for channel, state, count in rows:
        deliveries.add_metric([channel, state], count)
    return [deliveries]
