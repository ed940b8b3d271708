"""From a posted form to a contract's payload, and from a refusal back to the form with what went wrong.

The contracts decide what is valid, as they do for the API: a page only reads the fields, and shows the
contract's problems next to the fields they concern (or the service's message above the form).
"""

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from contracts.errors import (
    Conflict,
    DiasporaHubError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from contracts.validation import InvalidPayload
from gateway.pages.rendering import render

FORM_STATUS = {Invalid: 422, Conflict: 409, Unauthenticated: 401, TooManyAttempts: 429, Forbidden: 403, NotFound: 404}


def text_fields(form: MultiDict, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields that were filled in, stripped; an empty field is left out (the contract's default)."""
    return {name: form.get(name, "").strip() for name in names if form.get(name, "").strip()}


def listed(text: str) -> list[str]:
    """`a, b; c` → [a, b, c]: lists typed into one box."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def field_problems(exc: DiasporaHubError) -> dict[str, str]:
    """Problems by the form field they concern: `office_bearers.0.name` → `office_bearers`."""
    if not isinstance(exc, InvalidPayload):
        return {}
    problems: dict[str, str] = {}
    for problem in exc.problems:
        field = problem["field"].split(".")[0]
        problems.setdefault(field, problem["problem"])
    return problems


def refusal(exc: DiasporaHubError) -> dict:
    """What a form page shows of a refusal: the problems next to their fields, else the message above the form."""
    errors = field_problems(exc)
    status = next((code for error, code in FORM_STATUS.items() if isinstance(exc, error)), 422)
    return {"status": status, "errors": errors, "message": None if errors else exc.message}


def refusal_text(refused: dict) -> str:
    """A refusal in one line, for a page whose form has no field of its own to show the problem next to."""
    return refused["message"] or "; ".join(f"{field}: {problem}" for field, problem in refused["errors"].items())


def form_refused(request: Request, template: str, exc: DiasporaHubError, **context) -> Response:
    """The same form again, its values kept, with what went wrong."""
    return render(request, template, **refusal(exc), **context)
