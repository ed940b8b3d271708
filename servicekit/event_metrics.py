"""Counters of events, kept by servicekit.consumer and servicekit.outbox, and /metrics for a process that is no
nameko service (an outbox relay process). Imports only prometheus-client, so a relay process stays small."""

from prometheus_client import Counter, start_http_server
from pydantic_settings import BaseSettings

EVENTS_CONSUMED = Counter(
    "diasporahub_events_consumed_total", "Events handled (or skipped as repeats), per queue", ["queue", "outcome"]
)
EVENTS_RETRIED = Counter("diasporahub_events_retried_total", "Event handlings tried again, per queue", ["queue"])
EVENTS_DEAD_LETTERED = Counter(
    "diasporahub_events_dead_lettered_total", "Messages sent to the dead-letter queue, per queue", ["queue", "reason"]
)
EVENTS_PUBLISHED = Counter(
    "diasporahub_events_published_total", "Outbox rows published and confirmed, per exchange", ["exchange"]
)


def event_consumed(queue: str, *, repeat: bool) -> None:
    EVENTS_CONSUMED.labels(queue=queue, outcome="repeat" if repeat else "handled").inc()


def event_retried(queue: str) -> None:
    EVENTS_RETRIED.labels(queue=queue).inc()


def event_dead_lettered(queue: str, reason: str) -> None:
    EVENTS_DEAD_LETTERED.labels(queue=queue, reason=reason).inc()


def event_published(exchange: str) -> None:
    EVENTS_PUBLISHED.labels(exchange=exchange).inc()


def serve_process_metrics(process: str) -> None:
    """/metrics (on every path: it is the liveness probe too) of a process that is no nameko service, such as the
    `registry-relay`, on `<PROCESS>_METRICS_LISTEN` (`REGISTRY_RELAY_METRICS_LISTEN`), in a thread; unset, none."""
    listen = MetricsSettings(_env_prefix=f"{process.upper().replace('-', '_')}_METRICS_").listen
    if listen:
        host, _, port = listen.rpartition(":")
        start_http_server(int(port), addr=host or "0.0.0.0")


class MetricsSettings(BaseSettings):
    """`<SERVICE>_METRICS_LISTEN`: `host:port` of the metrics and health server; empty, none is started."""

    listen: str = ""
