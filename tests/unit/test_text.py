"""Text folding and the FTS5 match expression built from what people type."""

import unicodedata

import pytest

from services.search.embedded.individual_queries import match_expression
from services.search.text import fold, words


def test_a_mizo_letter_with_a_dot_below_folds_to_its_plain_letter():
    assert fold("Ṭhalai") == "thalai"


def test_accented_vowels_fold_to_plain_vowels():
    accented = "â ê î ô û á à ä é è ë í ì ï ó ò ú ù ü"

    assert fold(accented) == "a e i o u a a a e e e i i i o o u u u"


def test_upper_case_is_folded():
    assert fold("ṬHALAI MIZO ÂWM") == "thalai mizo awm"


def test_decomposed_text_folds_like_composed_text():
    composed = "Ṭhalai Kâwl Ênga"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed

    assert fold(decomposed) == fold(composed) == "thalai kawl enga"


def test_words_are_folded_and_split_on_punctuation_and_spaces():
    assert words("Ṭhalai, Mizo-Kâwl!  Singapore") == ["thalai", "mizo", "kawl", "singapore"]


def test_each_word_must_appear_as_a_quoted_prefix():
    assert match_expression("Ṭhalai Mizo") == '"thalai"* "mizo"*'


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ('mizo" OR "x', '"mizo"* "or"* "x"*'),
        ("mizo*", '"mizo"*'),
        ("-mizo", '"mizo"*'),
        ("mizo OR delhi", '"mizo"* "or"* "delhi"*'),
        ("NEAR(mizo delhi)", '"near"* "mizo"* "delhi"*'),
        ("name:mizo", '"name"* "mizo"*'),
    ],
)
def test_fts5_syntax_in_what_people_type_becomes_plain_quoted_words(typed, expression):
    assert match_expression(typed) == expression


@pytest.mark.parametrize("typed", ["", "   ", "*", '"', "-", "()", '"*-()"', "!?."])
def test_text_without_words_gives_no_match_expression(typed):
    assert match_expression(typed) is None


def test_underscores_alone_give_no_match_expression():
    assert match_expression("___") is None
