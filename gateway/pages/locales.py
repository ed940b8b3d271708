"""The portal's languages: English and Mizo (`lus`), chosen by cookie, else by the browser's Accept-Language.

Page text comes from the gettext catalogs in gateway/locale/ (compiled by the install step, `python -m
gateway.pages.catalogs compile`). Dates, numbers and country names are formatted with Babel's locale data; Babel
has none for Mizo, so Mizo pages format them as Indian English (`en_IN`) does.
"""

import gettext
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pycountry
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from werkzeug.wrappers import Request

ENGLISH, MIZO = "en", "lus"
LANGUAGES = {ENGLISH: "English", MIZO: "Mizo ṭawng"}
LANGUAGE_COOKIE = "diasporahub_lang"
CATALOG_DOMAIN = "messages"
LOCALE_FOLDER = Path(__file__).resolve().parent.parent / "locale"
TEMPLATE_FOLDER = Path(__file__).resolve().parent.parent / "templates"
# Babel has no locale data for Mizo: its pages format dates, numbers and names as Indian English does.
FORMAT_LOCALE = {ENGLISH: "en", MIZO: "en_IN"}


class CatalogMissing(RuntimeError):
    """The compiled catalog is not there: the install step (`make`, or the image build) was skipped."""


def language_of(request: Request) -> str:
    """The cookie's language if it is one of ours, else the best match of Accept-Language, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(tuple(LANGUAGES), default=ENGLISH)


def translations(language: str) -> gettext.NullTranslations:
    if language == ENGLISH:
        return gettext.NullTranslations()
    compiled = LOCALE_FOLDER / language / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.mo"
    if not compiled.is_file():
        raise CatalogMissing(f"{compiled} is missing: run `python -m gateway.pages.catalogs compile` (make does).")
    with compiled.open("rb") as catalog:
        return gettext.GNUTranslations(catalog)


class Formats:
    """Dates, numbers, countries and languages as a page in `language` writes them."""

    def __init__(self, language: str):
        self.locale = Locale.parse(FORMAT_LOCALE[language])
        self._countries: list[tuple[str, str, str]] | None = None

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=self.locale)
        return format_date(value, format="medium", locale=self.locale)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code)

    def country_options(self, selected: str | list[str] | None = None) -> Markup:
        """`<option>`s of every ISO 3166 country in the order of their names, the `selected` one(s) marked.

        Made from a list escaped once per language: a page with two country lists renders in a fraction of the
        time a template loop takes.
        """
        if self._countries is None:
            named = sorted(((c.alpha_2, self.country(c.alpha_2)) for c in pycountry.countries), key=lambda p: p[1])
            self._countries = [(code, f'<option value="{code}"', f">{escape(name)}</option>") for code, name in named]
        chosen = {selected} if isinstance(selected, str) else set(selected or ())
        return Markup(
            "".join(f"{start}{' selected' if code in chosen else ''}{end}" for code, start, end in self._countries)
        )

    def language(self, code: str) -> str:
        """A language's name from its ISO 639-3 code (`eng` → English), as Babel names it, else as ISO does."""
        if code == MIZO:
            return LANGUAGES[MIZO].split()[0]
        known = pycountry.languages.get(alpha_3=code)
        short = getattr(known, "alpha_2", None)
        return self.locale.languages.get(short or code) or (known.name if known else code)


@cache
def environment(language: str) -> Environment:
    """One template environment per language, made on first use and kept."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_FOLDER),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    formats = Formats(language)
    env.filters.update(
        date=formats.date, number=formats.number, country=formats.country, language_name=formats.language
    )
    env.globals.update(languages=LANGUAGES, language=language, country_options=formats.country_options)
    return env
