"""Every service writes one JSON object a line: what a log collector reads, with the call id to follow a request."""

import json
import logging
from datetime import datetime

from servicekit.logs import JsonLineFormatter


def formatted(message: str, *args, exc_info=None, **extra) -> dict:
    record = logging.LogRecord("servicekit.access", logging.INFO, __file__, 1, message, args, exc_info)
    record.call_id = "gateway.get_association.1"
    record.__dict__.update(extra)
    return json.loads(JsonLineFormatter("gateway").format(record))


def test_a_line_has_the_time_level_logger_message_call_id_and_service():
    line = formatted("%s %s %s in %.1f ms", "GET", "/api/v1/associations/<string:association_id>", "200", 1.25)

    assert list(line) == ["time", "level", "logger", "message", "call_id", "service"]
    assert line["message"] == "GET /api/v1/associations/<string:association_id> 200 in 1.2 ms"
    assert (line["level"], line["logger"], line["call_id"], line["service"]) == (
        "INFO",
        "servicekit.access",
        "gateway.get_association.1",
        "gateway",
    )


def test_extra_fields_and_the_exception_are_written_too():
    try:
        raise ValueError("no such place")
    except ValueError as exc:
        line = formatted("lookup failed", exc_info=(type(exc), exc, exc.__traceback__), at=datetime(2026, 1, 1))

    assert line["at"] == "2026-01-01T00:00:00"
    assert "ValueError: no such place" in line["exc_info"]
