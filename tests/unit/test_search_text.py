"""Search's reading of text, the same for both engines: folded words in any script, prefixes, one-edit typo
tolerance and the deletions that find candidates."""

import unicodedata

import pytest

from services.search.text import (
    as_prefix,
    deletions,
    fold,
    nfc,
    one_edit_apart,
    query_words,
    sort_key,
    tolerates_typo,
    words,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मिज़ो समाज", ["मिजो", "समाज"]),  # vowel signs stay in their word; the nukta folds away like a diacritic
        ("\u092e\u093f\u095b\u094b", ["मिजो"]),  # ज़ as one precomposed letter
        ("မီဇို အသင်း", ["မီဇို", "အသငး"]),
        ("Mat\u0324hai", ["mathai"]),  # t̤: no composed form
        ("العَرَبِيَّة", ["العربية"]),  # harakat fold away
        ("Łódź, Øresund; Đà Nẵng Æbeltoft", ["lodz", "oresund", "da", "nang", "aebeltoft"]),
        ("snake_case 42nd", ["snake", "case", "42nd"]),
    ],
)
def test_words_are_letters_digits_and_marks_folded_in_any_script(text, expected):
    assert words(text) == expected


def test_decomposed_and_composed_text_give_the_same_words():
    text = "Ṭhalai Kâwl मिज़ो"

    assert words(unicodedata.normalize("NFD", text)) == words(text) == ["thalai", "kawl", "मिजो"]


def test_a_very_long_word_is_cut_so_that_no_engine_splits_it():
    assert words("a" * 150) == ["a" * 100]


def test_a_typed_prefix_counts_its_first_twenty_letters():
    assert as_prefix("kristianthalaipawlhote") == "kristianthalaipawlho"


def test_names_sort_by_their_folded_letters():
    names = ["Zawlnuam", "Łódź", "Kraków", "serchhip", "Ṭhalai"]

    assert sorted(names, key=sort_key) == ["Kraków", "Łódź", "serchhip", "Ṭhalai", "Zawlnuam"]
    assert fold("ŁÓDŹ") == "lodz"


def test_query_words_are_folded_deduplicated_and_capped():
    assert query_words("Ṭhalai THALAI kâwl") == ["thalai", "kawl"]
    assert len(query_words(" ".join(f"w{number}" for number in range(30)))) == 10


def test_only_words_of_five_letters_or_more_tolerate_a_typo():
    assert not tolerates_typo("mizo")
    assert tolerates_typo("mizos")


def test_deletions_take_out_one_letter_each():
    assert deletions("abc") == {"bc", "ac", "ab"}


@pytest.mark.parametrize(
    ("typed", "term"),
    [
        ("fellowsip", "fellowship"),  # a letter left out
        ("fellowshipp", "fellowship"),  # a letter too many
        ("fellowshop", "fellowship"),  # a letter wrong
        ("fellowhsip", "fellowship"),  # neighbours swapped
    ],
)
def test_one_edit_is_tolerated(typed, term):
    assert one_edit_apart(typed, term)


@pytest.mark.parametrize(
    ("typed", "term"),
    [
        ("fellowship", "fellowship"),
        ("felowsip", "fellowship"),
        ("fellowshp", "fellowsih"),
        ("abcde", "badce"),
        ("abcde", "acbed"),
        ("fellows", "fellowship"),
    ],
)
def test_two_edits_or_none_are_not_one_edit(typed, term):
    assert not one_edit_apart(typed, term)


def test_nfc_composes_a_letter_and_its_dot_below():
    assert nfc("T\u0323halai") == "\u1e6chalai"
