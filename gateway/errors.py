"""The one table from errors to HTTP statuses, and the JSON body every error has."""

import json
import logging

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from contracts.errors import (
    Conflict,
    DiasporaHubError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)
from contracts.validation import InvalidPayload

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DiasporaHubError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    Unavailable: 503,
    TooManyAttempts: 429,
}
# Unavailable (a service not answering, a full disk) passes, but not within the second an overloaded gateway asks for.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def json_text(body: object) -> str:
    """JSON with <, > and & escaped, so that text echoed from a request can never be read as markup."""
    return json.dumps(body, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_response(status: int, body: object) -> Response:
    return Response(json_text(body), status=status, mimetype="application/json")


def error_response(exc: BaseException) -> Response:
    """Never a traceback or SQL: the person gets a sentence, the log gets the details."""
    if isinstance(exc, DiasporaHubError):
        status = next((code for error, code in STATUS_BY_ERROR.items() if isinstance(exc, error)), 500)
        body = {"error": exc.code, "message": exc.message}
        if isinstance(exc, InvalidPayload) and exc.problems:
            body["problems"] = exc.problems
        response = json_response(status, body)
        if status == 503:
            response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, HTTPException):
        error = (exc.name or "error").lower().replace(" ", "_")
        response = json_response(exc.code or 500, {"error": error, "message": exc.description})
        # Keep what the status needs besides the body, such as `Allow` with 405.
        response.headers.extend((name, value) for name, value in exc.get_headers() if name.lower() != "content-type")
        return response
    log.error("unexpected error while handling a request", exc_info=exc)
    return json_response(500, {"error": "internal", "message": "Something went wrong on our side; it has been logged."})
