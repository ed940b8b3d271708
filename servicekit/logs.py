"""JSON logs that carry the nameko call id, so one request can be followed across services."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import date, datetime, time

from nameko.extensions import DependencyProvider

from servicekit.log_redaction import InvalidValuesFilter

_call_id: ContextVar[str | None] = ContextVar("call_id", default=None)
# What every LogRecord has; anything else on a record was passed as `extra=` and is written as a field of its own.
RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "call_id"}


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


class JsonLineFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, call_id, service, then the exception or stack and any
    `extra=` fields. As python-json-logger wrote them, at a fraction of the cost (it was a sixth of the gateway's
    CPU per request: benchmarks/read_path.py)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "call_id": getattr(record, "call_id", None),
            "service": self.service,
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        for name, value in vars(record).items():
            if name not in RECORD_ATTRIBUTES:
                line[name] = value
        return json.dumps(line, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallIdFilter())
    handler.addFilter(InvalidValuesFilter())
    handler.setFormatter(JsonLineFormatter(service))
    # No line shows the thread or process: without these, every record asks eventlet for the current thread, which
    # was a fifth of the cost of the gateway's access line.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Its access lines hold the path and query sent (a name searched for) and the client's address, and no call id;
    # servicekit.metrics writes one per request instead, with the route's template and the call id.
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
