"""Validation errors reach the logs by field name only, never with the values that were sent.

An `Invalid` answer tells the caller what was wrong with what they sent (`country: 'XX' is not an ISO 3166-1
country code`); nameko also logs every expected error with its message and traceback, which would keep names,
addresses and phone numbers in the logs. This filter rewrites such a record to name the fields alone; every
service's log handler has it (servicekit.logs.configure_logging).
"""

import logging

from contracts.errors import Invalid


def invalid_fields(exc: Invalid) -> list[str]:
    """The fields an Invalid is about: its problems' fields, or each `field: problem` part of its message."""
    problems = getattr(exc, "problems", None)
    if problems:
        return [problem["field"] for problem in problems]
    message = exc.message if hasattr(exc, "message") else str(exc)
    return [part.split(":", 1)[0].strip() for part in message.split("; ") if ":" in part] or ["(request)"]


class InvalidValuesFilter(logging.Filter):
    """Rewrites any record that carries an Invalid (as an argument or as its exception) to name fields only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        carried = (
            [arg for arg in record.args or () if isinstance(arg, Invalid)] if isinstance(record.args, tuple) else []
        )
        invalid = exc if isinstance(exc, Invalid) else (carried[0] if carried else None)
        if invalid is None:
            return True
        redacted = f"invalid: {', '.join(invalid_fields(invalid))} (values not logged)"
        if isinstance(record.args, tuple):
            record.args = tuple(redacted if isinstance(arg, Invalid) else arg for arg in record.args)
        if isinstance(exc, Invalid):
            record.exc_info, record.exc_text = None, None
            if not carried:
                record.msg, record.args = "%s", (redacted,)
        return True
