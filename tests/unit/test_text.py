"""Text folding and splitting into words (the FTS5 match expression's tests are in test_search_full_text.py)."""

import unicodedata

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
