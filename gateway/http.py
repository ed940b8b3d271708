"""The `api` entrypoint: a route declares who may call it and what it takes and returns; JSON in, JSON out.

What a route declares (`body=`, `query=`, `returns=`, `session=`) is used twice: the entrypoint parses the
request into the declared contract models before the route runs (so a bad body is a 422 before any RPC),
and gateway/openapi.py describes the route from the same declaration.
"""

import inspect
import json
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

import eventlet
from nameko.exceptions import IncorrectSignature
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WsgiApp
from pydantic import BaseModel
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from werkzeug.wrappers import Request, Response

from contracts.errors import DiasporaHubError, Forbidden, Unauthenticated
from contracts.validation import parse
from gateway.auth import SESSION_COOKIE, session_token_of
from gateway.errors import error_response, json_response
from gateway.server import GuardedWebServer

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
BODY_DEADLINE_KEY = "diasporahub.body_deadline_seconds"
DEFAULT_BODY_DEADLINE_SECONDS = 30.0
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What every answer carries; a route may set its own (the docs page sets a Content-Security-Policy for HTML).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class Session(Enum):
    """Whether a route needs the caller's session; who may do what is decided by the services."""

    NONE = "none"  # the route does not look at the session
    OPTIONAL = "optional"  # anyone; a session may show more
    REQUIRED = "required"  # 401 without one, before the body is read


@dataclass(frozen=True)
class RouteDeclaration:
    summary: str
    who: str
    session: Session
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    returns: object = None  # a contract model, list[model], or None for an empty answer
    status: int = 200
    media_type: str = "application/json"
    other_media_types: tuple[str, ...] = ()  # text answers besides JSON, as the request chooses (`format=csv`)
    raw_body: str | None = None  # a body the route reads itself (a CSV file): its media type
    errors: tuple[int, ...] = ()
    headers: tuple[tuple[str, object, str], ...] = ()  # optional request headers it reads: (name, type, meaning)


class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer in JSON too; every answer carries the security headers."""

    def __call__(self, environ, start_response):
        environ[BODY_DEADLINE_KEY] = self.server.limits.body_deadline_seconds
        request = Request(environ, shallow=True)
        try:
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = error_response(exc)
        # One pass over the answer's headers rather than a setdefault (a scan each) per security header.
        present = {name.lower() for name, _value in response.headers}
        response.headers.extend(
            (header, value) for header, value in SECURITY_HEADERS.items() if header.lower() not in present
        )
        return response(environ, start_response)


class JsonWebServer(GuardedWebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class ApiEndpoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method: str, url: str, *, summary: str, who: str, session: Session, **declared):
        self.declaration = RouteDeclaration(summary=summary, who=who, session=session, **declared)
        self.signature: inspect.Signature | None = None
        # Our own errors are answers (404, 409…), not faults: logged as warnings, not errors.
        super().__init__(method, url, expected_exceptions=DiasporaHubError)

    def check_signature(self, args, kwargs) -> None:
        """As nameko's, with the route's signature read once instead of by inspect.getcallargs on every request."""
        if self.signature is None:
            self.signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            self.signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None

    def get_entrypoint_parameters(self, request: Request):
        return (request,), {**request.path_values, **declared_arguments(self.declaration, request)}

    def response_from_result(self, result) -> Response:
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (self.declaration.status, result)
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json")
        return json_response(status, body)

    def response_from_exception(self, exc) -> Response:
        return error_response(exc)


api = ApiEndpoint.decorator


def declared_arguments(declaration: RouteDeclaration, request: Request) -> dict[str, BaseModel]:
    """The session and where the request came from, then the query and body parsed into their contract models."""
    if declaration.session is Session.REQUIRED and session_token_of(request) is None:
        raise Unauthenticated("Sign in first: send the session cookie or an `Authorization: Bearer` header.")
    refuse_cross_site_writes(request)
    arguments = {}
    if declaration.query is not None:
        arguments["query"] = parse(declaration.query, query_of(request))
    if declaration.body is not None:
        arguments["body"] = parse(declaration.body, read_json(request))
    return arguments


def query_of(request: Request) -> dict[str, str | list[str]]:
    """A repeated parameter (`country=IN&country=SG`) becomes a list; the contracts also split `IN,SG`."""
    return {name: values[0] if len(values) == 1 else values for name, values in request.args.lists()}


def refuse_cross_site_writes(request: Request) -> None:
    """A browser sends the session cookie along with another site's form or script: such a write is refused.

    Requests with a bearer token are not at risk (no browser adds one by itself); a client that sends no Origin
    and no Sec-Fetch-Site is not a browser.
    """
    if request.method in SAFE_METHODS or SESSION_COOKIE not in request.cookies:
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (origin and urlsplit(origin).netloc != request.host):
        raise Forbidden("This request came from another web site; send it from DiasporaHub's own pages.")


def read_body(request: Request, limit_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refused if it is larger than `limit_bytes` or does not arrive within the deadline."""
    request.max_content_length = limit_bytes
    deadline_seconds = request.environ.get(BODY_DEADLINE_KEY, DEFAULT_BODY_DEADLINE_SECONDS)
    try:
        with eventlet.Timeout(deadline_seconds):
            return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise RequestEntityTooLarge(f"The request body is too large; the limit is {limit_bytes // 1024} KiB.") from None
    except (eventlet.Timeout, TimeoutError):
        raise RequestTimeout(f"The request body did not arrive within {deadline_seconds:g} s.") from None


def read_text(request: Request, limit_bytes: int) -> str:
    try:
        return read_body(request, limit_bytes).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text.") from None


def read_json(request: Request) -> object:
    """The request body as JSON (`Content-Type: application/json`), at most 1 MiB and 32 levels deep."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as JSON, with `Content-Type: application/json`.")
    raw = read_body(request)
    if not raw:
        raise BadRequest("The request has no body; send a JSON object.")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    except (RecursionError, ValueError):
        # Nested past what the parser can follow, or a number of thousands of digits.
        raise BadRequest("The body is not JSON that we accept: too deeply nested or a number too long.") from None
    if nesting_depth(document) > MAX_JSON_DEPTH:
        raise BadRequest(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return document


def nesting_depth(document: object) -> int:
    """How many arrays and objects deep the document goes (without recursion, so no depth can overflow it)."""
    deepest, pending = 0, [(document, 0)]
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return deepest
