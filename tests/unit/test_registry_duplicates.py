"""Possible duplicates: folded names, common words weighed down, acronyms matched to full names."""

from uuid import UUID, uuid4

import pytest

from services.registry.associations.duplicates import THRESHOLD, DuplicateFinder, NamedAssociation, name_similarity


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ṭhalai Fellowship Singapore", "Thalai Fellowship Singapore"),
        ("MIZO FELLOWSHIP LONDON", "mizo fellowship london"),
        ("MWA Dubai", "Mizo Welfare Association Dubai"),
        ("YMA London", "Young Mizo Association London"),
        ("KTP Delhi", "Kristian Thalai Pawl Delhi"),
        ("Mizo Welfare Association Dubia", "Mizo Welfare Association Dubai"),
        ("Mizo Welfare Assocation Dubai", "Mizo Welfare Association Dubai"),
        ("The Mizo Association of Delhi", "Mizo Association Delhi"),
    ],
    ids=["diacritics", "case", "acronym", "acronym-2", "acronym-3", "typo-in-city", "typo-in-common-word", "stopwords"],
)
def test_names_that_mean_the_same_association_are_flagged(first, second):
    assert name_similarity(first, second) >= THRESHOLD
    assert name_similarity(second, first) == name_similarity(first, second)


def test_folded_names_are_the_same_name():
    assert name_similarity("Ṭhalai Fellowship Singapore", "Thalai Fellowship Singapore") == 100


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Mizo Fellowship London", "Mizo Fellowship Leeds"),
        ("Mizo Welfare Association Dubai", "Mizo Welfare Association Sharjah"),
        ("Mizo Students Union Delhi", "Mizo Students Union Pune"),
        ("Mizo Christian Fellowship", "Mizo Welfare Association"),
    ],
)
def test_sharing_only_common_words_is_not_enough(first, second):
    assert name_similarity(first, second) < THRESHOLD


def test_common_words_weigh_less_than_distinctive_ones():
    same_city_other_kind = name_similarity("Mizo Fellowship London", "Mizo Association London")
    same_kind_other_city = name_similarity("Mizo Fellowship London", "Mizo Fellowship Leeds")

    assert same_city_other_kind > same_kind_other_city


def test_a_one_letter_typo_scores_below_the_exact_name_and_above_the_threshold():
    exact = name_similarity("Mizo Fellowship London", "Mizo Fellowship London")
    typo = name_similarity("Mizo Fellowship Lodnon", "Mizo Fellowship London")

    assert exact == 100
    assert THRESHOLD <= typo < exact


@pytest.mark.parametrize("empty", ["", "   ", "—"])
def test_a_name_without_words_is_like_nothing(empty):
    assert name_similarity(empty, "Mizo Welfare Association Dubai") == 0


def finder_of(*names: str) -> tuple[DuplicateFinder, dict[str, UUID]]:
    finder, ids = DuplicateFinder(), {}
    for name in names:
        ids[name] = uuid4()
        finder.add(NamedAssociation(ids[name], (name,)))
    return finder, ids


def test_the_finder_returns_the_candidates_above_the_threshold_best_first():
    finder, ids = finder_of(
        "Mizo Fellowship Lodnon", "Mizo Fellowship London", "Mizo Fellowship Leeds", "Mizo Welfare Association Dubai"
    )

    found = finder.candidates(["Mizo Fellowship London"])

    assert [candidate.id for candidate in found] == [ids["Mizo Fellowship London"], ids["Mizo Fellowship Lodnon"]]
    assert [candidate.score for candidate in found] == [
        100,
        name_similarity("Mizo Fellowship Lodnon", "Mizo Fellowship London"),
    ]
    assert all(candidate.score >= THRESHOLD for candidate in found)


def test_the_finder_matches_any_name_against_any_alternate_name():
    finder = DuplicateFinder()
    kept = uuid4()
    finder.add(NamedAssociation(kept, ("Mizo Welfare Association Dubai", "MWA Dubai")))

    [candidate] = finder.candidates(["Dubai Mizo Kohhran", "MWA Dubai"])

    assert (candidate.id, candidate.score) == (kept, 100)


def test_the_finder_finds_an_acronym_for_a_full_name_and_back():
    finder, ids = finder_of("Mizo Welfare Association Dubai", "Young Mizo Association London")

    assert [candidate.id for candidate in finder.candidates(["MWA Dubai"])] == [ids["Mizo Welfare Association Dubai"]]
    assert [candidate.id for candidate in finder.candidates(["YMA London"])] == [ids["Young Mizo Association London"]]

    reverse, reverse_ids = finder_of("MWA Dubai")
    assert [candidate.id for candidate in reverse.candidates(["Mizo Welfare Association Dubai"])] == [
        reverse_ids["MWA Dubai"]
    ]


def test_the_finder_finds_every_name_that_scores_above_the_threshold():
    """Its index must not lose what name_similarity would flag, such as an acronym of the name's beginning."""
    finder, ids = finder_of("Mizo Welfare Association Dubai")
    assert name_similarity("MWA", "Mizo Welfare Association Dubai") >= THRESHOLD

    assert [candidate.id for candidate in finder.candidates(["MWA"])] == [ids["Mizo Welfare Association Dubai"]]


def test_the_finder_keeps_at_most_the_limit():
    finder, _ = finder_of("Mizo Fellowship London", "Mizo Fellowship Londn", "Mizo Felowship London")

    assert len(finder.candidates(["Mizo Fellowship London"], limit=2)) == 2


def test_an_empty_finder_finds_nothing():
    assert DuplicateFinder().candidates(["Mizo Welfare Association Dubai"]) == []
