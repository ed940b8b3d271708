"""Who sees which associations and which individuals, decided from the registry's principal."""

from uuid import uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Forbidden
from contracts.search import AssociationQuery
from services.search.documents import IndividualDocument
from services.search.domain import AssociationAudience, IndividualAudience


def principal(**fields) -> Principal:
    return Principal(account_id=uuid4(), email="someone@example.org", display_name="Someone", **fields)


def admin_of(country: str, *, verified: bool = True) -> Principal:
    return principal(administers=[AdministeredAssociation(id=uuid4(), country=country, verified=verified)])


def individual(visibility: str, country: str = "SG") -> IndividualDocument:
    return IndividualDocument(
        id=uuid4(), name="Lalremruati", country=country, city="Singapore", languages=["lus"], visibility=visibility
    )


def test_the_public_and_signed_in_people_see_verified_associations_only():
    for asker in (None, principal(), admin_of("SG")):
        assert AssociationAudience.of(asker).public_only(AssociationQuery()) is True


def test_cell_staff_see_every_status_and_may_filter_by_it():
    audience = AssociationAudience.of(principal(is_cell_staff=True))

    assert audience.public_only(AssociationQuery(status="pending")) is False


@pytest.mark.parametrize("asker", [None, principal(), admin_of("SG")])
def test_only_cell_staff_may_filter_by_status(asker):
    with pytest.raises(Forbidden):
        AssociationAudience.of(asker).public_only(AssociationQuery(status="pending"))


def test_a_private_individual_is_seen_by_the_cell_and_themselves_only():
    private = individual("private")

    assert IndividualAudience.of(principal(is_cell_staff=True)).may_see(private)
    assert IndividualAudience.of(principal(individual_id=private.id)).may_see(private)
    assert not IndividualAudience.of(admin_of("SG")).may_see(private)
    assert not IndividualAudience.of(principal()).may_see(private)


def test_associations_visibility_is_for_admins_of_a_verified_association_in_the_same_country():
    shown_to_associations = individual("associations", country="SG")

    assert IndividualAudience.of(admin_of("SG")).may_see(shown_to_associations)
    assert not IndividualAudience.of(admin_of("IN")).may_see(shown_to_associations)
    assert not IndividualAudience.of(admin_of("SG", verified=False)).may_see(shown_to_associations)
    assert not IndividualAudience.of(principal()).may_see(shown_to_associations)


def test_a_public_individual_is_seen_by_everyone_signed_in():
    assert IndividualAudience.of(principal()).may_see(individual("public"))
