"""The portal's languages: English and Mizo (`lus`), chosen by cookie, else by the browser's Accept-Language.

Page text comes from the gettext catalogs in gateway/locale/ (compiled by the install step, `python -m
gateway.pages.catalogs compile`). Dates, numbers and country names are formatted with Babel's locale data; Babel
has none for Mizo, so Mizo pages format them as Indian English (`en_IN`) does.
"""

import gettext
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

import pycountry
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
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
    """Dates, numbers, countries and languages as a page in `language` writes them.

    One per language for the life of the process, so the answers that depend only on their argument (a number,
    a language's name, a country list) are kept: Babel and pycountry look-ups cost more than the rest of a page.
    """

    def __init__(self, language: str):
        self.locale = Locale.parse(FORMAT_LOCALE[language])
        self._countries: list[tuple[str, str, str]] | None = None
        self.number = lru_cache(maxsize=4096)(self._number)
        self.language = cache(self._language)  # a few hundred ISO codes at most
        self.country = lru_cache(maxsize=1024)(self._country)
        self._language_list = lru_cache(maxsize=1024)(self._languages_joined)
        self._country_options = lru_cache(maxsize=512)(self._options_html)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=self.locale)
        return format_date(value, format="medium", locale=self.locale)

    def _number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def _country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code)

    def country_options(self, selected: str | list[str] | None = None) -> Markup:
        """`<option>`s of every ISO 3166 country in the order of their names, the `selected` one(s) marked.

        Made from a list escaped once per language, and kept per selection: the directory has two country lists,
        which a template loop made the costliest part of its page.
        """
        chosen = (selected,) if isinstance(selected, str) else tuple(sorted(set(selected or ())))
        return self._country_options(chosen)

    def _options_html(self, chosen: tuple[str, ...]) -> Markup:
        if self._countries is None:
            named = sorted(((c.alpha_2, self.country(c.alpha_2)) for c in pycountry.countries), key=lambda p: p[1])
            self._countries = [(code, f'<option value="{code}"', f">{escape(name)}</option>") for code, name in named]
        return Markup(
            "".join(f"{start}{' selected' if code in chosen else ''}{end}" for code, start, end in self._countries)
        )

    def languages(self, codes: list[str]) -> str:
        """Languages' names joined with commas: `["lus", "eng"]` → `Mizo, English`."""
        return self._language_list(tuple(codes))

    def _languages_joined(self, codes: tuple[str, ...]) -> str:
        return ", ".join(self.language(code) for code in codes)

    def _language(self, code: str) -> str:
        """A language's name from its ISO 639-3 code (`eng` → English), as Babel names it, else as ISO does."""
        if code == MIZO:
            return LANGUAGES[MIZO].split()[0]
        known = pycountry.languages.get(alpha_3=code)
        short = getattr(known, "alpha_2", None)
        return self.locale.languages.get(short or code) or (known.name if known else code)


def page_texts(catalog: gettext.NullTranslations) -> dict:
    """`_`, `gettext` and `ngettext` for the templates, as Jinja's "newstyle" ones behave (the text is markup, its
    variables escaped into it), without their two layers of context calls per text; a text without variables is
    translated once. Every template is autoescaped, so the text is always Markup.
    """

    @cache
    def constant(message: str) -> Markup:
        return Markup(catalog.gettext(message)) % {}  # as newstyle: `%%` in a text is a percent sign

    def page_gettext(message: str, /, **variables) -> Markup:
        if not variables:
            return constant(message)
        return Markup(catalog.gettext(message)) % variables

    def page_ngettext(singular: str, plural: str, count: int, /, **variables) -> Markup:
        variables.setdefault("num", count)
        return Markup(catalog.ngettext(singular, plural, count)) % variables

    return {"_": page_gettext, "gettext": page_gettext, "ngettext": page_ngettext}


class ConstantTexts(Extension):
    """`{{ _("A text") }}` compiled into the template as its translation, as if the template held it: the page then
    makes no call for it (the directory page has some forty). Each language has an environment of its own, whose
    catalog does not change while the gateway runs; a text with variables is still translated as the page is made.
    The catalogs' extraction reads the templates' source, so it sees every text as written."""

    TEXT_FUNCTIONS = frozenset({"_", "gettext"})

    def filter_stream(self, stream: TokenStream):
        translate = self.environment.globals["_"]
        held: list[Token] = []
        for token in stream:
            if held or token.type == "variable_begin":
                held.append(token)
                if token.type != "variable_end":
                    continue
                text = self._constant_text(held)
                yield from held if text is None else (Token(held[0].lineno, "data", str(translate(text))),)
                held = []
            else:
                yield token
        yield from held

    def _constant_text(self, held: list[Token]) -> str | None:
        """The text of `{{ _("…") }}` (a string alone in the call), else None."""
        kinds = [token.type for token in held]
        if kinds != ["variable_begin", "name", "lparen", "string", "rparen", "variable_end"]:
            return None
        return held[3].value if held[1].value in self.TEXT_FUNCTIONS else None


@cache
def environment(language: str) -> Environment:
    """One template environment per language, made on first use and kept, its templates compiled once: a running
    gateway does not look for changed template files (that is a stat of every template on every page)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_FOLDER),
        auto_reload=False,
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", ConstantTexts],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = translations(language)
    env.install_gettext_translations(catalog, newstyle=True)
    env.globals.update(page_texts(catalog))
    formats = Formats(language)
    env.filters.update(
        date=formats.date,
        number=formats.number,
        country=formats.country,
        language_name=formats.language,
        language_names=formats.languages,
    )
    env.globals.update(languages=LANGUAGES, language=language, country_options=formats.country_options)
    return env
