"""Filters, who sees which status, facets, pagination and sorting."""

from datetime import timedelta
from uuid import UUID

from contracts.search import AssociationQuery, SuggestQuery
from tests.integration.search_contract.documents import REGISTERED, association, registered_days_later


def search(index, public_only: bool = True, **query):
    return index.search_associations(AssociationQuery(**query), public_only=public_only)


def names(results) -> list[str]:
    return [hit.name for hit in results.items]


def test_several_countries_and_several_languages_at_once(index):
    index.put_association(association("Hmar US", country="US", languages=["hmr"]), version=1)
    index.put_association(association("Mizo US", country="US", languages=["lus", "eng"]), version=1)
    index.put_association(association("Mizo GB", country="GB", languages=["lus"]), version=1)
    index.put_association(association("Chin IN", country="IN", languages=["cnh"]), version=1)
    index.put_association(association("Paite IN", country="IN", languages=["pck"]), version=1)

    assert sorted(names(search(index, country="US,GB"))) == ["Hmar US", "Mizo GB", "Mizo US"]
    assert sorted(names(search(index, language="hmr,cnh"))) == ["Chin IN", "Hmar US"]
    assert sorted(names(search(index, country=["US", "IN"], language=["hmr", "pck"]))) == ["Hmar US", "Paite IN"]
    assert names(search(index, country="US", language="eng")) == ["Mizo US"]


def test_category_filter(index):
    index.put_association(association("Church", categories=["church", "welfare"]), version=1)
    index.put_association(association("Students", categories=["students"]), version=1)
    index.put_association(association("Nothing in particular"), version=1)

    assert names(search(index, category="welfare")) == ["Church"]
    assert names(search(index, category="students,church", sort="name")) == ["Church", "Students"]


def test_only_verified_associations_are_public_and_the_cell_sees_and_filters_every_status(index):
    for status in ("pending", "verified", "rejected", "suspended", "dissolved"):
        index.put_association(association(status.title(), status=status), version=1)
    index.put_association(association("Merged", merged_into=association().id), version=1)

    assert names(search(index)) == ["Verified"]
    assert search(index, public_only=False).total == 6
    assert names(search(index, public_only=False, status="pending,suspended", sort="name")) == ["Pending", "Suspended"]


def test_facets_count_every_hit_not_only_the_page(index):
    index.put_association(association("A", country="IN", languages=["lus", "eng"], categories=["church"]), version=1)
    index.put_association(association("B", country="IN", languages=["lus"], categories=["church", "youth"]), version=1)
    index.put_association(association("C", country="SG", languages=["hmr"]), version=1)
    index.put_association(association("D", country="US", languages=["lus"], status="pending"), version=1)

    results = search(index, size=1)

    assert results.total == 3
    assert len(results.items) == 1
    assert results.facets.country == {"IN": 2, "SG": 1}
    assert results.facets.language == {"lus": 2, "eng": 1, "hmr": 1}
    assert results.facets.category == {"church": 2, "youth": 1}


def test_facets_match_the_hits_of_a_filtered_query(index):
    for number in range(12):
        index.put_association(
            association(
                f"Fellowship {number}",
                country=["IN", "SG", "AE"][number % 3],
                languages=[["lus"], ["lus", "hmr"]][number % 2],
                categories=[["church"], ["youth"], []][number % 3],
            ),
            version=1,
        )

    results = search(index, q="fellowship", language="hmr", size=100)

    hits = results.items
    assert results.total == len(hits) == 6
    assert sum(results.facets.country.values()) == results.total
    assert results.facets.language == {"hmr": 6, "lus": 6}
    for country, count in results.facets.country.items():
        assert count == sum(hit.country == country for hit in hits)
    for category, count in results.facets.category.items():
        assert count == sum(category in hit.categories for hit in hits)


def test_pages_are_stable_and_cover_every_hit_once_with_an_exact_total(index):
    ids = set()
    for _ in range(25):
        document = association("Mizo Fellowship")
        ids.add(document.id)
        index.put_association(document, version=1)

    pages = [search(index, q="mizo", page=page, size=10) for page in (1, 2, 3, 4)]

    assert [page.total for page in pages] == [25, 25, 25, 25]
    assert [len(page.items) for page in pages] == [10, 10, 5, 0]
    seen = [hit.id for page in pages for hit in page.items]
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == ids
    assert [hit.id for hit in search(index, q="mizo", page=2, size=10).items] == [hit.id for hit in pages[1].items]


def test_sort_by_folded_name_and_by_newest(index):
    index.put_association(association("Zawlnuam Pawl", registered_at=registered_days_later(1)), version=1)
    index.put_association(association("Ṭhalai Pawl", registered_at=registered_days_later(3)), version=1)
    index.put_association(association("serchhip pawl", registered_at=registered_days_later(2)), version=1)

    assert names(search(index, sort="name")) == ["serchhip pawl", "Ṭhalai Pawl", "Zawlnuam Pawl"]
    assert names(search(index, sort="newest")) == ["Ṭhalai Pawl", "serchhip pawl", "Zawlnuam Pawl"]
    assert names(search(index, q="pawl", sort="name")) == ["serchhip pawl", "Ṭhalai Pawl", "Zawlnuam Pawl"]


def test_an_older_version_never_overwrites_a_newer_one(index):
    newer = association("Mizo Fellowship Western Australia")
    older = newer.model_copy(update={"name": "Mizo Fellowship Perth"})

    assert index.put_association(newer, version=2) is True
    assert index.put_association(older, version=1) is False
    assert index.put_association(newer, version=2) is False

    assert names(search(index, q="perth")) == []
    assert names(search(index, q="western")) == ["Mizo Fellowship Western Australia"]
    assert index.put_association(older.model_copy(update={"name": "Mizo Perth"}), version=3) is True
    assert names(search(index, q="western")) == []
    assert search(index).total == 1


def test_a_suspended_association_leaves_public_search(index):
    verified = association("Mizo Fellowship")
    index.put_association(verified, version=1)
    index.put_association(verified.model_copy(update={"status": "suspended"}), version=2)

    assert search(index).total == 0


def test_hits_never_carry_contact_details(index):
    index.put_association(association("Mizo Fellowship"), version=1)

    [hit] = search(index).items
    assert set(hit.model_dump(exclude_none=True)) == {
        "id",
        "name",
        "alternate_names",
        "country",
        "city",
        "languages",
        "categories",
        "status",
    }


def test_newest_first_tells_apart_registrations_within_one_millisecond(index):
    earlier = association("Earlier", id=UUID(int=1), registered_at=REGISTERED + timedelta(microseconds=400))
    later = association("Later", id=UUID(int=2), registered_at=REGISTERED + timedelta(microseconds=700))
    index.put_association(earlier, version=1)
    index.put_association(later, version=1)

    assert names(search(index, sort="newest")) == ["Later", "Earlier"]


def test_an_association_past_its_verification_due_date_leaves_public_search_at_once(index, clock):
    """Before the registry's timer announces the lapse: the engine compares the due date with its own clock."""
    due_soon = clock() + timedelta(minutes=1)
    index.put_association(association("Mizo Due Soon", verification_due_at=due_soon), version=1)
    index.put_association(
        association("Mizo Due Next Year", verification_due_at=clock() + timedelta(days=365)), version=1
    )
    index.put_association(association("Mizo Imported Long Ago"), version=1)  # verified before due dates existed
    everyone = ["Mizo Due Next Year", "Mizo Due Soon", "Mizo Imported Long Ago"]

    assert names(search(index, sort="name")) == everyone
    assert [item.name for item in index.suggest_associations(SuggestQuery(q="mizo")).items] == everyone
    clock.advance(timedelta(minutes=1))

    assert names(search(index, sort="name")) == ["Mizo Due Next Year", "Mizo Imported Long Ago"]
    assert [item.name for item in index.suggest_associations(SuggestQuery(q="mizo")).items] == [
        "Mizo Due Next Year",
        "Mizo Imported Long Ago",
    ]
    assert names(search(index, public_only=False, sort="name")) == everyone  # the Cell still sees it
