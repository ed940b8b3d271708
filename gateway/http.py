"""The `api` entrypoint: a route declares who may call it and what it takes and returns; JSON in, JSON out.

What a route declares (`body=`, `query=`, `returns=`, `session=`) is used twice: the entrypoint parses the
request into the declared contract models before the route runs (so a bad body is a 422 before any RPC),
and gateway/openapi.py describes the route from the same declaration.
"""

import json
from dataclasses import dataclass
from enum import Enum

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from contracts.errors import DiasporaHubError, Unauthenticated
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.errors import error_response, json_response

MAX_BODY_BYTES = 1024 * 1024


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


class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer in JSON too."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        try:
            provider, request.path_values = self.url_map.bind_to_environ(environ).match()
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = error_response(exc)
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class ApiEndpoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method: str, url: str, *, summary: str, who: str, session: Session, **declared):
        self.declaration = RouteDeclaration(summary=summary, who=who, session=session, **declared)
        # Our own errors are answers (404, 409…), not faults: logged as warnings, not errors.
        super().__init__(method, url, expected_exceptions=DiasporaHubError)

    def get_entrypoint_parameters(self, request: Request):
        return (request,), {**request.path_values, **declared_arguments(self.declaration, request)}

    def response_from_result(self, result) -> Response:
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (self.declaration.status, result)
        if isinstance(body, BaseModel):
            return Response(body.model_dump_json(), status=status, mimetype="application/json")
        return json_response(status, body)

    def response_from_exception(self, exc) -> Response:
        return error_response(exc)


api = ApiEndpoint.decorator


def declared_arguments(declaration: RouteDeclaration, request: Request) -> dict[str, BaseModel]:
    """The session check, then the query and body parsed into their contract models."""
    if declaration.session is Session.REQUIRED and session_token_of(request) is None:
        raise Unauthenticated("Sign in first: send the session cookie or an `Authorization: Bearer` header.")
    arguments = {}
    if declaration.query is not None:
        arguments["query"] = parse(declaration.query, query_of(request))
    if declaration.body is not None:
        arguments["body"] = parse(declaration.body, read_json(request))
    return arguments


def query_of(request: Request) -> dict[str, str | list[str]]:
    """A repeated parameter (`country=IN&country=SG`) becomes a list; the contracts also split `IN,SG`."""
    return {name: values[0] if len(values) == 1 else values for name, values in request.args.lists()}


def read_body(request: Request, limit_bytes: int = MAX_BODY_BYTES) -> bytes:
    request.max_content_length = limit_bytes
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise RequestEntityTooLarge(f"The request body is too large; the limit is {limit_bytes // 1024} KiB.") from None


def read_text(request: Request, limit_bytes: int) -> str:
    try:
        return read_body(request, limit_bytes).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text.") from None


def read_json(request: Request) -> object:
    """The request body as JSON, at most 1 MiB."""
    raw = read_body(request)
    if not raw:
        raise BadRequest("The request has no body; send a JSON object.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
