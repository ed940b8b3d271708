"""The `page` entrypoint: HTML for browsers, a CSRF token on every form, the security headers on every answer.

A page method takes the request (and, for a POST, the `form` already read and checked) and returns a Response
made with `render` or `redirect`. An error a service raises becomes a page in the reader's language; a GET that
needs a session sends the reader to the login page and back.

CSRF: a double-submit token. Every page sets a random `diasporahub_csrf` cookie (HttpOnly, SameSite=Strict)
and writes the same value in each form; a POST whose form field does not match the cookie is refused (403)
before the page method runs. Another site can neither read the cookie nor guess the value.
"""

import hmac
import inspect
import logging
import secrets
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qsl, quote, urlsplit

from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from contracts.errors import (
    DiasporaHubError,
    Forbidden,
    NotFound,
    SecondFactorEnrolmentRequired,
    TooManyAttempts,
    Unauthenticated,
    Unavailable,
)
from gateway.auth import SESSION_COOKIE
from gateway.http import ApiEndpoint, JsonWebServer, read_body, refuse_cross_site_writes
from gateway.pages.compression import compress_page
from gateway.pages.locales import environment, language_of

log = logging.getLogger(__name__)

CSRF_COOKIE = "diasporahub_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 256 * 1024
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CsrfRefused(Forbidden):
    code = "csrf_refused"


@dataclass
class PageView:
    """What every template knows about the request: language, CSRF token, whether someone is signed in."""

    request: Request
    language: str = field(init=False)
    csrf_token: str = field(init=False)
    new_csrf_token: bool = field(init=False)

    def __post_init__(self):
        self.language = language_of(self.request)
        existing = self.request.cookies.get(CSRF_COOKIE, "")
        self.new_csrf_token = len(existing) < 32
        self.csrf_token = secrets.token_urlsafe(32) if self.new_csrf_token else existing

    @property
    def signed_in(self) -> bool:
        return SESSION_COOKIE in self.request.cookies

    @property
    def path(self) -> str:
        return self.request.full_path.rstrip("?")


def render(request: Request, template: str, *, status: int = 200, **context) -> Response:
    view = PageView(request)
    html = environment(view.language).get_template(template).render(page=view, **context)
    response = Response(html, status=status, mimetype="text/html")
    return finish(compress_page(request, response), view)


def redirect(request: Request, location: str) -> Response:
    """303 See Other: after a form post the browser asks for the next page with GET."""
    return finish(Response(status=303, headers={"Location": location}), PageView(request))


def finish(response: Response, view: PageView) -> Response:
    response.headers.update(PAGE_HEADERS)
    if view.new_csrf_token:
        response.set_cookie(CSRF_COOKIE, view.csrf_token, path="/", httponly=True, samesite="Strict")
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path of this site: never another site's address (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return default
    return target


def read_form(request: Request) -> MultiDict:
    """The posted form (at most 256 KiB), refused unless its CSRF token matches the cookie."""
    refuse_cross_site_writes(request)
    if request.mimetype != "application/x-www-form-urlencoded":
        raise CsrfRefused("Send this form from DiasporaHub's own page.")
    raw = read_body(request, MAX_FORM_BYTES).decode("utf-8", errors="replace")
    form = MultiDict(parse_qsl(raw, keep_blank_values=True, max_num_fields=500))
    expected = request.cookies.get(CSRF_COOKIE, "")
    if len(expected) < 32 or not hmac.compare_digest(expected, form.get(CSRF_FIELD, "")):
        raise CsrfRefused("This form has expired or was not sent from DiasporaHub's own page.")
    return form


class PageEndpoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method: str, url: str):
        self.signature: inspect.Signature | None = None
        super().__init__(method, url, expected_exceptions=DiasporaHubError)

    # The page method's signature read once, as the API's routes do (inspect.getcallargs on every page cost more).
    check_signature = ApiEndpoint.check_signature

    def handle_request(self, request: Request) -> Response:
        request.shallow = False
        try:
            context_data = self.server.context_data_from_headers(request)
            kwargs = dict(request.path_values)
            if request.method == "POST":
                kwargs["form"] = read_form(request)
            self.check_signature((request,), kwargs)
            finished = Event()
            self.container.spawn_worker(
                self,
                (request,),
                kwargs,
                context_data=context_data,
                handle_result=partial(self.handle_result, finished),
            )
            return finished.wait()
        except Exception as exc:  # noqa: BLE001 — every failure becomes a page; unexpected ones are logged
            return error_page(request, exc)


page = PageEndpoint.decorator

ERROR_STATUS = {NotFound: 404, Forbidden: 403, TooManyAttempts: 429, Unavailable: 503, Unauthenticated: 401}


def error_page(request: Request, exc: BaseException) -> Response:
    if isinstance(exc, SecondFactorEnrolmentRequired) and request.method == "GET":
        return redirect(request, "/account/second-factor")
    if isinstance(exc, Unauthenticated) and request.method == "GET":
        return redirect(request, f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
    if isinstance(exc, HTTPException):
        status, detail = exc.code or 500, exc.description
    elif isinstance(exc, DiasporaHubError):
        status = next((code for error, code in ERROR_STATUS.items() if isinstance(exc, error)), 422)
        detail = exc.message
    else:
        log.error("unexpected error while rendering a page", exc_info=exc)
        status, detail = 500, None
    kind = "csrf" if isinstance(exc, CsrfRefused) else str(status)
    return render(request, "error.html", status=status, kind=kind, detail=detail)
