"""The OpenAPI 3.1 document of the HTTP API, made from the routes' declarations and the contract models.

Every `api` route is described (tests/unit/test_openapi.py checks both ways), so the document cannot
drift from what the gateway serves.
"""

import re
import types
import typing
from collections.abc import Iterator
from functools import cache
from importlib.metadata import version

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from contracts.http import ErrorBody
from gateway.auth import SESSION_COOKIE
from gateway.http import ApiEndpoint, RouteDeclaration, Session

SCHEMAS = "#/components/schemas/{model}"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_MEANINGS = {
    400: "The body is not valid JSON, or is missing.",
    401: "Sign in first: the session is missing, has expired or was ended.",
    403: "Signed in, but not allowed to do this.",
    404: "There is no such thing, or it is not yours to see.",
    408: "The body did not arrive in time.",
    409: "It conflicts with what is stored (a concurrent edit, a duplicate, a decision already taken).",
    413: "The body is too large.",
    415: "The body is not sent as `application/json`.",
    422: "A field is invalid; `problems` says which and why.",
    429: "Too many attempts; wait, then try again.",
    503: "A service does not answer, or the gateway is too busy; try again shortly.",
}
SECURITY = {
    Session.NONE: [],
    Session.OPTIONAL: [{"bearer": []}, {"cookie": []}, {}],
    Session.REQUIRED: [{"bearer": []}, {"cookie": []}],
}
_PATH_PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def api_routes(service_class: type) -> Iterator[tuple[str, ApiEndpoint]]:
    """(method name, endpoint) for every `api` route of the service class."""
    for name in sorted(dir(service_class)):
        for entrypoint in getattr(getattr(service_class, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, ApiEndpoint):
                yield name, entrypoint


def route_group(service_class: type, method_name: str) -> str:
    """The route module's group, as a tag: `AssociationRoutes.register_association` → `Association`."""
    return getattr(service_class, method_name).__qualname__.split(".")[0].removesuffix("Routes")


def openapi_path(url: str) -> str:
    """`/api/v1/associations/<string:association_id>` → `/api/v1/associations/{association_id}`."""
    return _PATH_PARAMETER.sub(r"{\1}", url)


@cache
def openapi_document(service_class: type) -> dict:
    routes = list(api_routes(service_class))
    schemas = _Schemas(routes)
    paths: dict[str, dict] = {}
    for name, endpoint in routes:
        for method in endpoint.method.split(","):
            operation = _operation(name, method, endpoint, schemas, route_group(service_class, name))
            paths.setdefault(openapi_path(endpoint.url), {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DiasporaHub API",
            "version": version("diasporahub"),
            "description": "Mizo associations and people across the world, and the Mizo Diaspora Cell.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.definitions,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The token from POST /api/v1/auth/login"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
    }


class _Schemas:
    """JSON Schemas of every model the routes name, as components, and a reference to each."""

    def __init__(self, routes: list[tuple[str, ApiEndpoint]]):
        wanted: set[tuple[type[BaseModel], str]] = {(ErrorBody, "serialization")}
        for _name, endpoint in routes:
            declaration = endpoint.declaration
            if declaration.body is not None:
                wanted.add((declaration.body, "validation"))
            wanted.update((model, "serialization") for model in _models_in(declaration.returns))
        references, top = models_json_schema(sorted(wanted, key=repr), ref_template=SCHEMAS)
        self._references = references
        self.definitions: dict = dict(top.get("$defs", {}))

    def reference(self, model: type[BaseModel], mode: str) -> dict:
        return self._references[(model, mode)]

    def returned(self, returns: object) -> dict:
        """The schema of a route's answer: a model, a list of models, one of several models, or any object."""
        if typing.get_origin(returns) is list:
            return {"type": "array", "items": self.returned(typing.get_args(returns)[0])}
        if typing.get_origin(returns) in (typing.Union, types.UnionType):
            return {"anyOf": [self.returned(member) for member in typing.get_args(returns)]}
        if returns is dict:
            return {"type": "object"}
        return self.reference(returns, "serialization")

    def query_parameters(self, model: type[BaseModel]) -> list[dict]:
        schema = model.model_json_schema(ref_template=SCHEMAS, mode="validation")
        self.definitions.update(schema.get("$defs", {}))
        required = set(schema.get("required", ()))
        return [
            {
                "name": field,
                "in": "query",
                "required": field in required,
                "description": property_schema.get("description", ""),
                "schema": property_schema,
                "style": "form",
                "explode": True,
            }
            for field, property_schema in schema["properties"].items()
        ]


def _models_in(returns: object) -> Iterator[type[BaseModel]]:
    if isinstance(returns, type) and issubclass(returns, BaseModel):
        yield returns
    for member in typing.get_args(returns):
        yield from _models_in(member)


def _operation(name: str, method: str, endpoint: ApiEndpoint, schemas: _Schemas, tag: str) -> dict:
    declaration = endpoint.declaration
    path_parameters = _PATH_PARAMETER.findall(endpoint.url)
    operation = {
        "operationId": name,
        "summary": declaration.summary,
        "description": f"Who may call it: {declaration.who}.",
        "tags": [tag],
        "security": SECURITY[declaration.session],
        "parameters": [
            {"name": parameter, "in": "path", "required": True, "schema": {"type": "string"}}
            for parameter in path_parameters
        ],
        "responses": {str(declaration.status): _success(declaration, schemas)},
    }
    if declaration.query is not None:
        operation["parameters"] += schemas.query_parameters(declaration.query)
    operation["parameters"] += [
        {"name": name, "in": "header", "required": False, "description": meaning,
         "schema": TypeAdapter(kind).json_schema()}
        for name, kind, meaning in declaration.headers
    ]  # fmt: skip
    if declaration.body is not None:
        body_schema = schemas.reference(declaration.body, "validation")
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
    elif declaration.raw_body is not None:
        operation["requestBody"] = {"required": True, "content": {declaration.raw_body: {"schema": {"type": "string"}}}}
    error_schema = {"schema": schemas.reference(ErrorBody, "serialization")}
    for status in sorted(_error_statuses(method, declaration, bool(path_parameters))):
        operation["responses"][str(status)] = {
            "description": ERROR_MEANINGS[status],
            "content": {"application/json": error_schema},
        }
    return operation


def _success(declaration: RouteDeclaration, schemas: _Schemas) -> dict:
    if declaration.returns is None:
        return {"description": "Done."}
    if declaration.media_type != "application/json":
        return {"description": declaration.summary, "content": {declaration.media_type: {"schema": {"type": "string"}}}}
    content = {"application/json": {"schema": schemas.returned(declaration.returns)}}
    content.update({media_type: {"schema": {"type": "string"}} for media_type in declaration.other_media_types})
    return {"description": declaration.summary, "content": content}


def _error_statuses(method: str, declaration: RouteDeclaration, has_path_parameters: bool) -> set[int]:
    statuses = {503, *declaration.errors}
    if declaration.session is not Session.NONE:
        statuses |= {401, 403}
    if has_path_parameters or declaration.body is not None:
        statuses.add(404)  # what the path or the body names (`into`, `participants`) may not exist
    if declaration.body is not None:
        statuses |= {400, 408, 413, 415, 422}
    if declaration.raw_body is not None:
        statuses |= {400, 408, 413, 422}
    if declaration.query is not None:
        statuses.add(422)
    if method in WRITE_METHODS:
        statuses.add(403)  # a write sent with the session cookie from another site
    if method in WRITE_METHODS and declaration.session is not Session.NONE:
        statuses.add(409)
    return statuses
