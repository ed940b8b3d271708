"""Prometheus metrics and health, served by every service on a port of its own (`<SERVICE>_METRICS_LISTEN`).

`metrics = Metrics()` on a service times every worker of every entrypoint (RPC latency per method, event handling,
timers, HTTP requests by route and status; each HTTP request also gets its access log line, with the call id and
the route's template), and serves on `<SERVICE>_METRICS_LISTEN` (`0.0.0.0:9100`; unset, the
embedded default: nothing is served, nothing listens):

- `/metrics`: what this module counts, what servicekit.consumer and servicekit.outbox count (events consumed,
  retried, dead-lettered, published: servicekit/event_metrics.py), and, read from the database on each scrape, the
  outbox backlog and the age of its oldest unsent row, and whatever the service's own collectors add;
- `/healthz`: 200 while the process serves (liveness);
- `/readyz`: 200 when the broker, every database of the service and whatever its providers check answer, 503 naming
  which does not (readiness). A provider that holds something else the service needs (search's engine) adds its
  own checks with a `readiness_checks() -> dict[str, bool]` method. A service with an outbox also says how many
  events wait in it and for how long (`outbox`): information for people, never a reason to be unready (the relay
  process publishes them, and the alert rules watch their age).

A service adds its own figures with `Metrics(collectors=(function, …))`: each function takes the service's
SQLAlchemy engine (its `Database` provider's) and returns Prometheus metric families (`GaugeMetricFamily`…); it
runs on every scrape and must only read (services/messaging/metrics.py is one).
"""

import json
import logging
import time
from collections.abc import Callable, Iterable

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import REGISTRY, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from servicekit import outbox
from servicekit.bus import BrokerUnreachable, check_broker
from servicekit.event_metrics import MetricsSettings
from servicekit.sqltypes import utcnow

log = logging.getLogger(__name__)
access_log = logging.getLogger("servicekit.access")

READINESS_TIMEOUT_SECONDS = 2.0
Collector = Callable[[Engine], Iterable[Metric]]

ENTRYPOINT_SECONDS = Histogram(
    "diasporahub_entrypoint_duration_seconds",
    "Time a worker took, per service, entrypoint method, kind (rpc, event, http, timer) and outcome",
    ["service", "entrypoint", "kind", "outcome"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "diasporahub_http_request_duration_seconds",
    "Time to answer an HTTP request, per route (its template), method and status",
    ["service", "route", "method", "status"],
)


def unsent(engine: Engine, table: Table) -> tuple[int, float]:
    """How many outbox rows wait to be published, and the age in seconds of the oldest (0 when none waits)."""
    with engine.connect() as connection:
        count, oldest = connection.execute(
            select(func.count(), func.min(table.c.created_at)).where(table.c.sent_at.is_(None))
        ).one()
    return count, 0.0 if oldest is None else (utcnow() - oldest).total_seconds()


def outbox_backlog(service: str, table: Table) -> Collector:
    def collect(engine: Engine) -> Iterable[Metric]:
        count, oldest_age = unsent(engine, table)
        backlog = GaugeMetricFamily("diasporahub_outbox_backlog", "Outbox rows not yet published", labels=["service"])
        backlog.add_metric([service], count)
        age = GaugeMetricFamily(
            "diasporahub_outbox_oldest_unsent_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none waits)",
            labels=["service"],
        )
        age.add_metric([service], oldest_age)
        return [backlog, age]

    return collect


class DatabaseFigures:
    """The one collector registered with Prometheus: on each scrape, runs every running service's collectors against
    its engine and merges families of the same name (several services may run in one process, as in tests)."""

    def __init__(self):
        self.sources: list[tuple[Engine, tuple[Collector, ...]]] = []

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for engine, collectors in list(self.sources):
            for collector in collectors:
                try:
                    collected = list(collector(engine))
                except Exception:
                    log.exception("a metrics collector failed")
                    continue
                for family in collected:
                    if family.name in families:
                        families[family.name].samples.extend(family.samples)
                    else:
                        families[family.name] = family
        return list(families.values())


_database_figures: DatabaseFigures | None = None


def database_figures() -> DatabaseFigures:
    """Registered with Prometheus the first time a service starts in this process, not on import."""
    global _database_figures
    if _database_figures is None:
        _database_figures = DatabaseFigures()
        REGISTRY.register(_database_figures)
    return _database_figures


class Metrics(DependencyProvider):
    def __init__(self, collectors: Iterable[Collector] = ()):
        self.collectors = tuple(collectors)
        self.started: dict[object, float] = {}
        self.server_thread = None
        self.sources: list[tuple[Engine, tuple[Collector, ...]]] = []

    def setup(self) -> None:
        self.service = self.container.service_name
        self.settings = MetricsSettings(_env_prefix=f"{self.service.upper()}_METRICS_")

    def start(self) -> None:
        self.sources = [(engine, self._collectors_for(engine, metadata)) for engine, metadata in self._databases()]
        database_figures().sources.extend(self.sources)
        if self.settings.listen:
            host, _, port = self.settings.listen.rpartition(":")
            sock = eventlet.listen((host or "0.0.0.0", int(port)))
            self.server_thread = self.container.spawn_managed_thread(
                lambda: eventlet.wsgi.server(sock, self.wsgi_app, log_output=False), identifier="metrics_server"
            )
            log.info("metrics and health on %s", self.settings.listen)

    def stop(self) -> None:
        for source in self.sources:
            if source in database_figures().sources:
                database_figures().sources.remove(source)
        if self.server_thread is not None:
            self.server_thread.kill()
            self.server_thread = None

    def kill(self) -> None:
        self.stop()

    def worker_setup(self, worker_ctx) -> None:
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        entrypoint = worker_ctx.entrypoint
        outcome = _outcome(entrypoint, exc_info)
        ENTRYPOINT_SECONDS.labels(self.service, entrypoint.method_name, _kind(entrypoint), outcome).observe(seconds)
        if isinstance(entrypoint, HttpRequestHandler):
            status = str(_http_status(entrypoint, result, exc_info))
            HTTP_REQUEST_SECONDS.labels(self.service, entrypoint.url, entrypoint.method, status).observe(seconds)
            # The route's template, never the path or query sent (names searched for) nor the client's address.
            access_log.info("%s %s %s in %.1f ms", entrypoint.method, entrypoint.url, status, seconds * 1000)

    def worker_teardown(self, worker_ctx) -> None:
        self.started.pop(worker_ctx, None)

    def _databases(self) -> list[tuple[Engine, object]]:
        """(engine, metadata) of every dependency that holds a SQLAlchemy engine (servicekit.database.Database)."""
        found = []
        for dependency in self.container.dependencies:
            engine = getattr(dependency, "engine", None)
            if isinstance(engine, Engine):
                found.append((engine, getattr(dependency, "metadata", None)))
        return found

    def _collectors_for(self, engine: Engine, metadata) -> tuple[Collector, ...]:
        if metadata is None or outbox.TABLE_NAME not in metadata.tables:
            return self.collectors
        return (outbox_backlog(self.service, metadata.tables[outbox.TABLE_NAME]), *self.collectors)

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return make_wsgi_app()(environ, start_response)
        if path == "/healthz":
            return _json(start_response, 200, {"status": "up", "service": self.service})
        if path == "/readyz":
            checks = self.readiness_checks()
            ready = all(checks.values())
            body = {"status": "ready" if ready else "not_ready", "checks": checks} | self.outbox_waiting()
            return _json(start_response, 200 if ready else 503, body)
        return _json(start_response, 404, {"error": "not_found", "message": "Try /metrics, /healthz or /readyz."})

    def readiness_checks(self) -> dict[str, bool]:
        checks = {"broker": _broker_answers(self.container.config["AMQP_URI"])}
        for index, (engine, _metadata) in enumerate(self._databases()):
            checks["database" if index == 0 else f"database_{index + 1}"] = _database_answers(engine)
        for dependency in self.container.dependencies:
            provided = getattr(dependency, "readiness_checks", None)
            if dependency is not self and callable(provided):
                checks.update(provided())
        return checks

    def outbox_waiting(self) -> dict:
        """`{"outbox": {"backlog": n, "oldest_unsent_age_seconds": s}}` for a service with an outbox that answers."""
        for engine, metadata in self._databases():
            if metadata is not None and outbox.TABLE_NAME in metadata.tables:
                try:
                    count, oldest_age = unsent(engine, metadata.tables[outbox.TABLE_NAME])
                except SQLAlchemyError:
                    return {}  # the database check says so already
                return {"outbox": {"backlog": count, "oldest_unsent_age_seconds": round(oldest_age, 1)}}
        return {}


def _broker_answers(amqp_uri: str) -> bool:
    try:
        check_broker(amqp_uri, READINESS_TIMEOUT_SECONDS)
    except BrokerUnreachable:
        return False
    return True


def _database_answers(engine: Engine) -> bool:
    """Within READINESS_TIMEOUT_SECONDS: a database that takes a connection but does not answer (starting, or a
    network path that drops packets) would otherwise hold the probe until the prober gives up, saying nothing.
    A greenthread timeout, since under eventlet psycopg2 connects asynchronously and libpq's connect_timeout is
    not applied; SQLAlchemy discards a connection interrupted so."""
    try:
        with eventlet.Timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (Exception, eventlet.Timeout) as exc:
        log.warning("readiness: the database does not answer: %r", exc)
        return False
    return True


def _kind(entrypoint) -> str:
    if isinstance(entrypoint, Rpc):
        return "rpc"
    if isinstance(entrypoint, HttpRequestHandler):
        return "http"
    if isinstance(entrypoint, Timer):
        return "timer"
    return "event" if hasattr(entrypoint, "subscription") else type(entrypoint).__name__.lower()


def _outcome(entrypoint, exc_info) -> str:
    if exc_info is None:
        return "ok"
    return "expected_error" if isinstance(exc_info[1], entrypoint.expected_exceptions or ()) else "error"


def _http_status(entrypoint, result, exc_info) -> int:
    """The status the handler answers with: from the Response, a (status, body) pair, the route's declared status,
    or the error's response."""
    if exc_info is not None:
        return entrypoint.response_from_exception(exc_info[1]).status_code
    if hasattr(result, "status_code"):
        return result.status_code
    if isinstance(result, tuple) and result and isinstance(result[0], int):
        return result[0]
    declaration = getattr(entrypoint, "declaration", None)
    return getattr(declaration, "status", 200)


def _json(start_response, status: int, body: dict):
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
