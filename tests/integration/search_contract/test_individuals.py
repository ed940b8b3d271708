"""Individuals: each caller sees only whom their visibility allows, never a contact detail."""

from uuid import uuid4

from contracts.search import IndividualQuery
from services.search.domain import IndividualAudience
from tests.integration.search_contract.documents import individual

CELL = IndividualAudience(everyone=True)
SINGAPORE_ADMIN = IndividualAudience(association_countries=frozenset({"SG"}))
SIGNED_IN = IndividualAudience()


def names(index, audience: IndividualAudience, **query) -> list[str]:
    return sorted(hit.name for hit in index.search_individuals(IndividualQuery(**query), audience).items)


def test_a_private_individual_is_never_returned_to_an_association_admin(index):
    private = individual("Private Person", visibility="private")
    index.put_individual(private, version=1)
    index.put_individual(individual("Public Person", visibility="public"), version=1)

    assert names(index, SINGAPORE_ADMIN) == ["Public Person"]
    assert names(index, SINGAPORE_ADMIN, q="private") == []
    assert names(index, CELL) == ["Private Person", "Public Person"]
    assert names(index, IndividualAudience(own_id=private.id)) == ["Private Person", "Public Person"]


def test_associations_visibility_reaches_admins_of_the_same_country_only(index):
    index.put_individual(individual("In Singapore", visibility="associations", country="SG"), version=1)
    index.put_individual(individual("In India", visibility="associations", country="IN", city="Delhi"), version=1)

    assert names(index, SINGAPORE_ADMIN) == ["In Singapore"]
    assert names(index, SIGNED_IN) == []
    assert names(index, CELL) == ["In India", "In Singapore"]


def test_hits_carry_name_place_and_languages_and_never_a_contact_detail(index):
    index.put_individual(individual("Lalremruati"), version=1)

    [hit] = index.search_individuals(IndividualQuery(q="lalrem"), SIGNED_IN).items
    assert set(hit.model_dump()) == {"id", "name", "country", "city", "languages"}


def test_text_country_and_language_filters_with_folding_and_typos(index):
    index.put_individual(individual("Ṭhangzuala Hmar", languages=["hmr"], country="US", city="Dallas"), version=1)
    index.put_individual(individual("Thangi Ralte", languages=["lus"], country="SG"), version=1)

    assert names(index, SIGNED_IN, q="thang") == ["Thangi Ralte", "Ṭhangzuala Hmar"]
    assert names(index, SIGNED_IN, q="thangzaula") == ["Ṭhangzuala Hmar"]
    assert names(index, SIGNED_IN, q="dallas") == ["Ṭhangzuala Hmar"]
    assert names(index, SIGNED_IN, country="SG,IN") == ["Thangi Ralte"]
    assert names(index, SIGNED_IN, language="hmr") == ["Ṭhangzuala Hmar"]


def test_a_change_of_visibility_takes_effect_and_an_older_event_changes_nothing(index):
    person = individual("Lalremruati", visibility="public")
    index.put_individual(person, version=1)

    assert index.put_individual(person.model_copy(update={"visibility": "private"}), version=2) is True
    assert index.put_individual(person, version=1) is False
    assert names(index, SIGNED_IN) == []


def test_a_removed_individual_is_gone_and_an_older_event_cannot_bring_them_back(index):
    person = individual("Lalremruati")
    index.put_individual(person, version=2)

    assert index.remove_individual(person.id, version=3) is True
    assert index.put_individual(person, version=2) is False
    assert index.remove_individual(person.id, version=3) is False
    assert names(index, CELL) == []
    assert index.remove_individual(uuid4(), version=1) is True


def test_pages_of_people_are_stable_with_an_exact_total(index):
    for number in range(15):
        index.put_individual(individual(f"Lal {number:02}"), version=1)

    pages = [index.search_individuals(IndividualQuery(q="lal", page=page, size=6), SIGNED_IN) for page in (1, 2, 3)]

    assert [page.total for page in pages] == [15, 15, 15]
    assert [hit.name for page in pages for hit in page.items] == [f"Lal {number:02}" for number in range(15)]


def test_people_come_by_name_matches_first_then_by_name(index):
    index.put_individual(individual("Lalremruati"), version=1)
    index.put_individual(individual("Chhuanawma", city="Lalpur"), version=1)
    index.put_individual(individual("Aaron Lalzarliana Ralte Khiangte"), version=1)

    found = index.search_individuals(IndividualQuery(q="lal"), SIGNED_IN).items

    assert [hit.name for hit in found] == ["Aaron Lalzarliana Ralte Khiangte", "Lalremruati", "Chhuanawma"]


def test_several_words_each_with_a_typo_allowed(index):
    index.put_individual(individual("Ṭhangzuala Hmar", city="Dallas"), version=1)

    assert names(index, SIGNED_IN, q="hmar thangzaula") == ["Ṭhangzuala Hmar"]
    assert names(index, SIGNED_IN, q="thangzaula dalas") == ["Ṭhangzuala Hmar"]


def test_names_in_any_script_are_found_by_their_own_spelling_and_sort_by_plain_letters(index):
    for name in ("मिज़ो लालरिनपुई", "मजबूत सिंह", "Mawia", "Łukasz Ralte", "Kima"):
        index.put_individual(individual(name), version=1)

    assert names(index, SIGNED_IN, q="मि") == ["मिज़ो लालरिनपुई"]
    assert names(index, SIGNED_IN, q="lukasz") == ["Łukasz Ralte"]
    ordered = [hit.name for hit in index.search_individuals(IndividualQuery(), SIGNED_IN).items]
    assert ordered[:3] == ["Kima", "Łukasz Ralte", "Mawia"]
