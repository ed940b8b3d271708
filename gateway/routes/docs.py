"""The API's description: the OpenAPI document and Swagger UI, every asset served from here (works offline)."""

import mimetypes
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from gateway.http import Session, api
from gateway.openapi import openapi_document

OUR_DOCS = Path(__file__).resolve().parent.parent / "static" / "docs"
SWAGGER_UI_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
ASSET_CACHE_SECONDS = 24 * 3600
# Swagger UI sets inline styles and shows data: images; scripts come only from here.
DOCS_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class DocsRoutes:
    @api(
        "GET",
        "/api/v1/openapi.json",
        summary="This API's OpenAPI 3.1 document",
        who="anyone",
        session=Session.NONE,
        returns=dict,
    )
    def openapi(self, request: Request):
        return openapi_document(type(self))

    @api(
        "GET",
        "/docs",
        summary="Interactive API documentation",
        who="anyone",
        session=Session.NONE,
        returns=str,
        media_type="text/html",
    )
    def docs(self, request: Request):
        response = Response((OUR_DOCS / "index.html").read_bytes(), mimetype="text/html")
        response.headers["Content-Security-Policy"] = DOCS_PAGE_POLICY
        return response

    @api(
        "GET",
        "/docs/assets/<string:asset>",
        summary="A file of the documentation page",
        who="anyone",
        session=Session.NONE,
        returns=bytes,
        media_type="*/*",
    )
    def docs_asset(self, request: Request, asset: str):
        path = _asset_path(asset)
        mimetype = mimetypes.guess_type(asset)[0] or "application/octet-stream"
        response = Response(path.read_bytes(), mimetype=mimetype)
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_CACHE_SECONDS
        return response


def _asset_path(asset: str) -> Path:
    if asset in SWAGGER_UI_ASSETS:
        return Path(swagger_ui_path) / asset
    if asset == "start-docs.js":
        return OUR_DOCS / asset
    raise NotFound(f"There is no documentation file {asset!r}.")
