"""Free text over associations: folding, alternate names, prefixes, one-edit typos, type-ahead."""

import unicodedata

import pytest

from contracts.search import AssociationQuery, SuggestQuery
from tests.integration.search_contract.documents import association


def found(index, q: str, **query) -> list[str]:
    return [hit.name for hit in index.search_associations(AssociationQuery(q=q, **query), public_only=True).items]


def test_thalai_finds_the_dotted_letter_and_the_dotted_letter_finds_thalai(index):
    index.put_association(association("Ṭhalai Kristian Fellowship"), version=1)
    index.put_association(association("Thalai Zawlkhawpui"), version=1)

    assert sorted(found(index, "thalai")) == ["Thalai Zawlkhawpui", "Ṭhalai Kristian Fellowship"]
    assert sorted(found(index, "Ṭhalai")) == ["Thalai Zawlkhawpui", "Ṭhalai Kristian Fellowship"]
    assert found(index, "THALAI kristian") == ["Ṭhalai Kristian Fellowship"]


def test_accented_vowels_and_decomposed_text_are_folded(index):
    index.put_association(association("Kâwl Ênga Mizo Pâwl"), version=1)

    assert found(index, "kawl enga") == ["Kâwl Ênga Mizo Pâwl"]
    assert found(index, unicodedata.normalize("NFD", "KÂWL")) == ["Kâwl Ênga Mizo Pâwl"]
    assert found(index, "áàä") == []


def test_alternate_names_office_bearers_city_and_description_are_searched(index):
    index.put_association(
        association(
            "Mizo Welfare Association Dubai",
            alternate_names=["MWA Dubai", "Dubai Mizo Inzawmkhawm"],
            city="Dubai",
            country="AE",
            office_bearer_names=["Lalthansanga Ralte"],
            description="Sunday fellowship and help for new arrivals.",
        ),
        version=1,
    )

    for words in ("mwa", "inzawmkhawm", "lalthansanga", "dubai", "arrivals"):
        assert found(index, words) == ["Mizo Welfare Association Dubai"], words


def test_every_word_must_match_each_as_a_prefix(index):
    index.put_association(association("Ṭhalai Mizo Fellowship", city="Singapore"), version=1)
    index.put_association(association("Mizo Welfare Association Dubai", city="Dubai", country="AE"), version=1)

    assert found(index, "fell") == ["Ṭhalai Mizo Fellowship"]
    assert sorted(found(index, "miz")) == ["Mizo Welfare Association Dubai", "Ṭhalai Mizo Fellowship"]
    assert found(index, "mizo dubai") == ["Mizo Welfare Association Dubai"]
    assert found(index, "thalai dubai") == []


@pytest.mark.parametrize("typed", ["fellowsip", "fellowshipp", "fellowshop", "fellowhsip", "Ṭhalia"])
def test_one_typo_in_a_word_of_five_letters_or_more_is_forgiven(index, typed):
    index.put_association(association("Ṭhalai Mizo Fellowship"), version=1)

    assert found(index, typed) == ["Ṭhalai Mizo Fellowship"]


@pytest.mark.parametrize("typed", ["mizp", "felowsip", "fellwoshp"])
def test_no_typo_in_a_short_word_and_never_two(index, typed):
    index.put_association(association("Ṭhalai Mizo Fellowship"), version=1)

    assert found(index, typed) == []


def test_text_relevance_puts_a_name_match_before_a_description_match(index):
    index.put_association(association("Aizawl Students Union", description="We meet in Hmar homes."), version=1)
    index.put_association(association("Hmar Fellowship Shillong"), version=1)

    assert found(index, "hmar") == ["Hmar Fellowship Shillong", "Aizawl Students Union"]


def test_type_ahead_suggests_verified_associations_by_the_beginning_of_their_names(index):
    index.put_association(association("Lalpa Kohhran Singapore"), version=1)
    index.put_association(association("Mizo Fellowship", alternate_names=["Lalremruata Memorial"]), version=1)
    index.put_association(association("Lallianzuala Pending", status="pending"), version=1)
    index.put_association(association("Thalai Lal", description="lalpa lalpa"), version=1)

    suggested = index.suggest_associations(SuggestQuery(q="lal"))

    assert {item.name for item in suggested.items} == {"Lalpa Kohhran Singapore", "Mizo Fellowship", "Thalai Lal"}
    assert [item.name for item in index.suggest_associations(SuggestQuery(q="lalpa sing")).items] == [
        "Lalpa Kohhran Singapore"
    ]
    assert len(index.suggest_associations(SuggestQuery(q="l", size=2)).items) == 2


def test_a_devanagari_name_is_found_by_its_own_spelling_and_its_vowel_signs_count(index):
    index.put_association(association("मिज़ो समाज दिल्ली"), version=1)
    index.put_association(association("मजबूत संघ"), version=1)

    assert found(index, "मिज़ो") == ["मिज़ो समाज दिल्ली"]
    assert found(index, "\u092e\u093f\u095b\u094b") == ["मिज़ो समाज दिल्ली"]  # ज़ as one precomposed letter
    assert found(index, "मि") == ["मिज़ो समाज दिल्ली"]
    assert found(index, "समाज") == ["मिज़ो समाज दिल्ली"]
    assert found(index, "मज") == ["मजबूत संघ"]


def test_a_burmese_name_is_found_by_its_own_spelling_and_its_vowel_signs_count(index):
    index.put_association(association("မီဇို အသင်း"), version=1)
    index.put_association(association("မန္တလေး အသင်း"), version=1)

    assert found(index, "မီဇို") == ["မီဇို အသင်း"]
    assert found(index, "မီ") == ["မီဇို အသင်း"]
    assert found(index, "မန္တလေး") == ["မန္တလေး အသင်း"]
    assert sorted(found(index, "အသင်း")) == ["မန္တလေး အသင်း", "မီဇို အသင်း"]


def test_a_letter_with_a_combining_mark_and_no_composed_form_is_folded(index):
    decomposed = "Mat\u0324hai Fellowship"  # t̤: t and a combining diaeresis below; Unicode has no single letter
    index.put_association(association(decomposed), version=1)

    assert found(index, "mathai") == [decomposed]
    assert found(index, "Mat\u0324hai") == [decomposed]
    assert found(index, "mat\u0324") == [decomposed]


def test_letters_without_a_decomposition_fold_and_sort_as_their_plain_letters(index):
    for name in ("Zawlnuam Pawl", "Łódź Mizo Fellowship", "Kraków Zo Fellowship", "Mizo Øresund", "Đà Nẵng Mizo"):
        index.put_association(association(name), version=1)

    assert found(index, "lodz") == ["Łódź Mizo Fellowship"]
    assert found(index, "oresund") == ["Mizo Øresund"]
    assert found(index, "da nang") == ["Đà Nẵng Mizo"]
    assert found(index, "", sort="name") == [
        "Đà Nẵng Mizo",
        "Kraków Zo Fellowship",
        "Łódź Mizo Fellowship",
        "Mizo Øresund",
        "Zawlnuam Pawl",
    ]


def test_a_word_of_22_letters_typed_in_full_is_a_prefix(index):
    index.put_association(association("Kristianthalaipawlhotepui Singapore"), version=1)
    index.put_association(association("Kristianthalaipawlhote Delhi"), version=1)

    assert sorted(found(index, "kristianthalaipawlhote")) == [
        "Kristianthalaipawlhote Delhi",
        "Kristianthalaipawlhotepui Singapore",
    ]
    assert found(index, "kristianthalaipawlhote delhi") == ["Kristianthalaipawlhote Delhi"]
    # Past 20 letters a typed word is matched on its first 20, as Elasticsearch's reference recommends.
    assert len(found(index, "kristianthalaipawlhozz")) == 2


def test_relevance_is_in_tiers_then_by_name_whatever_the_length_or_repetitions(index):
    index.put_association(
        association("Zo Society", description="Mizo mizo mizo: the mizo fellowship of mizo people"), version=1
    )
    index.put_association(association("Bawngkawn Fellowship", office_bearer_names=["Mizo Ralte"]), version=1)
    index.put_association(association("Zo Mizo"), version=1)
    index.put_association(association("Aizawl Welfare Association of the Greater Delhi Region Mizo"), version=1)
    index.put_association(association("Chanmari Pawl", alternate_names=["Mizo Chanmari"]), version=1)

    assert found(index, "mizo") == [
        "Aizawl Welfare Association of the Greater Delhi Region Mizo",
        "Chanmari Pawl",
        "Zo Mizo",
        "Bawngkawn Fellowship",
        "Zo Society",
    ]


def test_type_ahead_suggests_by_name_whatever_the_length(index):
    index.put_association(association("Zo Lal"), version=1)
    index.put_association(association("Lalpa Kohhran Singapore Mizo Fellowship Welfare"), version=1)
    index.put_association(association("Mizo Fellowship", alternate_names=["Lalremruata Memorial"]), version=1)

    assert [item.name for item in index.suggest_associations(SuggestQuery(q="lal")).items] == [
        "Lalpa Kohhran Singapore Mizo Fellowship Welfare",
        "Mizo Fellowship",
        "Zo Lal",
    ]
