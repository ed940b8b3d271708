"""Texts without variables are compiled into the templates as their translation (gateway.pages.locales.ConstantTexts):
the page reads as when `_` was called for them, in English and in Mizo, and the page makes no call for them."""

import pytest

from gateway.pages.locales import environment

SOURCE = (
    '<nav aria-label="{{ _(\'Main menu\') }}"><a href="/directory">{{ _("Directory") }}</a></nav>\n'
    '{% if shown %}<p>{{- _("Search") -}}</p>{% endif %}{{ _("100%% sure") }}'
)
# The same texts, each translated by calling `_` as the page is made.
CALLED = (
    '{% set menu, directory, search, sure = _(\'Main menu\'), _("Directory"), _("Search"), _("100%% sure") %}'
    '<nav aria-label="{{ menu }}"><a href="/directory">{{ directory }}</a></nav>\n'
    "{% if shown %}<p>{{- search -}}</p>{% endif %}{{ sure }}"
)


@pytest.mark.parametrize("language", ["en", "lus"])
def test_a_compiled_text_reads_as_the_text_translated_when_the_page_is_made(language):
    env = environment(language)

    assert env.from_string(SOURCE).render(shown=True) == env.from_string(CALLED).render(shown=True)
    assert env.from_string(SOURCE).render(shown=False) == env.from_string(CALLED).render(shown=False)


def test_the_mizo_translation_is_in_the_compiled_template_and_no_call_is_made_for_it():
    env = environment("lus")
    mizo = str(env.globals["_"]("Directory"))
    code = env.compile(SOURCE, raw=True)

    assert mizo != "Directory"
    assert repr(mizo)[1:-1] in code
    assert "context.call(" not in code


def test_texts_with_variables_or_in_expressions_are_still_translated_as_the_page_is_made():
    env = environment("lus")
    source = '{{ _("%(km)s km", km=5) }}|{{ _(word) }}|{{ _("Directory") ~ "!" }}|{{ gettext("Search") }}'
    code = env.compile(source, raw=True)

    assert code.count("context.call(") == 3
    assert env.from_string(source).render(word="Search").split("|") == [
        str(env.globals["_"]("%(km)s km", km=5)),
        str(env.globals["_"]("Search")),
        str(env.globals["_"]("Directory")) + "!",
        str(env.globals["_"]("Search")),
    ]
