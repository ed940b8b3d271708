"""The home page, the language choice and the pages' static files."""

from pathlib import Path

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request

from gateway.pages.compression import static_response
from gateway.pages.locales import LANGUAGE_COOKIE, LANGUAGES
from gateway.pages.rendering import page, redirect, render, safe_next

STATIC_FOLDER = Path(__file__).resolve().parent.parent / "static"
ASSET_CACHE_SECONDS = 24 * 3600
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class HomePages:
    @page("GET", "/")
    def home_page(self, request: Request):
        return render(request, "home.html")

    @page("POST", "/language")
    def choose_language(self, request: Request, form):
        response = redirect(request, safe_next(form.get("next")))
        language = form.get("language")
        if language in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_SECONDS, path="/", samesite="Lax")
        return response

    @page("GET", "/static/<path:asset>")
    def static_asset(self, request: Request, asset: str):
        path = (STATIC_FOLDER / asset).resolve()
        if not path.is_relative_to(STATIC_FOLDER) or not path.is_file():
            raise NotFound(f"There is no file {asset!r}.")
        response = static_response(request, path)
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_CACHE_SECONDS
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
