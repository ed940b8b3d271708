"""The OpenAPI document describes every route the gateway serves, and nothing else, and is valid OpenAPI 3.1."""

import json

from nameko.web.handlers import HttpRequestHandler
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder

from gateway.http import ApiEndpoint
from gateway.openapi import openapi_document, openapi_path
from gateway.pages.rendering import PageEndpoint
from gateway.service import GatewayService


def is_api_route(entrypoint: object) -> bool:
    """An HTTP entrypoint of the API; the web pages (gateway/pages/, HTML for browsers) are not in its document."""
    return isinstance(entrypoint, HttpRequestHandler) and not isinstance(entrypoint, PageEndpoint)


def served_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every API entrypoint of the gateway, whatever decorator made it."""
    routes = set()
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()):
            if is_api_route(entrypoint):
                routes |= {(method, openapi_path(entrypoint.url)) for method in entrypoint.method.split(",")}
    return routes


def documented_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document(GatewayService)

    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_served_route_is_documented_and_every_documented_route_is_served():
    document = openapi_document(GatewayService)

    assert served_routes() - documented_routes(document) == set(), "served but not in the OpenAPI document"
    assert documented_routes(document) - served_routes() == set(), "documented but not served"


def test_every_http_entrypoint_declares_who_may_call_it_and_what_it_takes():
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()):
            if is_api_route(entrypoint):
                assert isinstance(entrypoint, ApiEndpoint), f"{name} is not declared with gateway.http.api"
                assert entrypoint.declaration.who and entrypoint.declaration.summary, name


def test_bodies_errors_and_the_session_schemes_are_described():
    document = openapi_document(GatewayService)
    register = document["paths"]["/api/v1/associations"]["post"]

    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AssociationDraft"
    }
    assert register["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AssociationV1"
    }
    assert {"400", "401", "422", "503"} <= set(register["responses"])
    assert register["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert register["security"] == [{"bearer": []}, {"cookie": []}]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cookie"}


def test_query_parameters_come_from_the_query_contract():
    document = openapi_document(GatewayService)
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/search/associations"]["get"]["parameters"]}

    assert {"q", "country", "language", "category", "near", "radius_km", "sort", "page", "size"} <= set(parameters)
    assert parameters["near"]["schema"]["anyOf"][0] == {"type": "string"}
    assert parameters["country"]["schema"]["type"] == "array"


def test_the_csv_export_is_described_as_json_or_csv():
    document = openapi_document(GatewayService)
    answer = document["paths"]["/api/v1/admin/exports/associations"]["get"]["responses"]["200"]

    assert set(answer["content"]) == {"application/json", "text/csv"}


def call(route_name: str, **environ) -> object:
    gateway = GatewayService.__new__(GatewayService)
    request = EnvironBuilder(**environ).get_request()
    request.path_values = {}
    return getattr(gateway, route_name)(request)


def test_the_gateway_serves_the_document_and_a_docs_page_with_no_outside_assets():
    served = call("openapi", path="/api/v1/openapi.json")
    page = call("docs", path="/docs").get_data(as_text=True)

    assert json.loads(json.dumps(served)) == openapi_document(GatewayService)
    assert "/docs/assets/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page


def test_the_docs_assets_are_served_from_the_installed_package():
    gateway = GatewayService.__new__(GatewayService)
    request = EnvironBuilder(path="/docs/assets/swagger-ui-bundle.js").get_request()

    response = gateway.docs_asset(request, asset="swagger-ui-bundle.js")

    assert response.status_code == 200
    assert response.mimetype in {"text/javascript", "application/javascript"}
    assert b"SwaggerUIBundle" in response.get_data()
