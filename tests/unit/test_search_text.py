"""Search's reading of text: typed words, one-edit typo tolerance and the deletions that find candidates."""

import pytest

from services.search.text import deletions, nfc, one_edit_apart, query_words, tolerates_typo


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
