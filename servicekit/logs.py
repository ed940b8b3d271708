"""JSON logs that carry the nameko call id, so one request can be followed across services."""

import logging
import sys
from contextvars import ContextVar

from nameko.extensions import DependencyProvider
from pythonjsonlogger.json import JsonFormatter

from servicekit.log_redaction import InvalidValuesFilter

_call_id: ContextVar[str | None] = ContextVar("call_id", default=None)


class CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = _call_id.get()
        return True


class CallIdLogging(DependencyProvider):
    """Puts the worker's call id chain on every log line written during that worker."""

    def worker_setup(self, worker_ctx) -> None:
        _call_id.set(">".join(worker_ctx.call_id_stack))

    def worker_teardown(self, worker_ctx) -> None:
        _call_id.set(None)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallIdFilter())
    handler.addFilter(InvalidValuesFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(call_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    # No line shows the thread or process: without these, every record asks eventlet for the current thread, which
    # was a fifth of the cost of the gateway's access line.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Its access lines hold the path and query sent (a name searched for) and the client's address, and no call id;
    # servicekit.metrics writes one per request instead, with the route's template and the call id.
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
