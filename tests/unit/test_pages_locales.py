"""The pages' languages: every English text has its Mizo, the reader's choice is kept, formats follow the locale."""

import re

from babel.messages.pofile import read_po
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.pages.catalogs import LOCALE_FOLDER, TEMPLATE, extract
from gateway.pages.help import HelpPages
from gateway.pages.locales import LANGUAGE_COOKIE, Formats, environment, language_of
from gateway.pages.rendering import PageView

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def mizo_catalog():
    with (LOCALE_FOLDER / "lus" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source)


def request_with(**headers) -> Request:
    cookie = headers.pop("cookie", None)
    builder = EnvironBuilder(path="/", headers=headers)
    if cookie:
        builder.headers["Cookie"] = cookie
    return Request(builder.get_environ())


def test_every_text_of_the_pages_is_in_the_template_catalog():
    with TEMPLATE.open("rb") as source:
        stored = {message.id for message in read_po(source) if message.id}
    extracted = {message.id for message in extract() if message.id}
    assert extracted == stored, "run: python -m gateway.pages.catalogs extract"


def test_every_text_has_a_mizo_translation_with_the_same_placeholders():
    for message in mizo_catalog():
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        mizo = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(mizo), f"no Mizo for {english[0]!r}"
        for source, translated in zip(english, mizo, strict=False):
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), source


def test_the_cookie_wins_then_accept_language_then_english():
    assert language_of(request_with(cookie=f"{LANGUAGE_COOKIE}=lus", **{"Accept-Language": "en"})) == "lus"
    assert language_of(request_with(**{"Accept-Language": "lus, en;q=0.5"})) == "lus"
    assert language_of(request_with(**{"Accept-Language": "fr"})) == "en"
    assert language_of(request_with(cookie=f"{LANGUAGE_COOKIE}=xx")) == "en"


def test_mizo_pages_format_as_indian_english_for_want_of_mizo_locale_data():
    assert Formats("lus").number(1234567) == "12,34,567"
    assert Formats("en").number(1234567) == "1,234,567"
    assert Formats("lus").language("lus") == "Mizo"
    assert Formats("en").language("eng") == "English" and Formats("en").language("grt") == "Garo"
    assert Formats("en").country("SG") == "Singapore"


def test_a_page_renders_its_text_in_mizo():
    request = request_with(cookie=f"{LANGUAGE_COOKIE}=lus")
    context = HelpPages.help_choices() | {"values": {}, "errors": {}, "message": None, "principal": None}
    html = environment("lus").get_template("help.html").render(page=PageView(request), **context)
    assert "<h1>Ṭanpuina ka mamawh</h1>" in html and '<html lang="lus">' in html
