"""The `api` entrypoint: JSON in, JSON out, every error through gateway.errors."""

import json

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from contracts.errors import DiasporaHubError
from gateway.errors import error_response, json_response

MAX_BODY_BYTES = 1024 * 1024


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

    def __init__(self, method, url, **kwargs):
        # Our own errors are answers (404, 409…), not faults: logged as warnings, not errors.
        kwargs.setdefault("expected_exceptions", DiasporaHubError)
        super().__init__(method, url, **kwargs)

    def response_from_result(self, result) -> Response:
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (200, result)
        return json_response(status, body)

    def response_from_exception(self, exc) -> Response:
        return error_response(exc)


api = ApiEndpoint.decorator


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
