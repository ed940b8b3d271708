"""Who may do what in the registry: checked in the registry itself, not only at the gateway."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.associations import AssociationV1
from contracts.errors import Forbidden, NotFound
from services.registry.authorization import (
    is_admin_of,
    is_public,
    may_see,
    require_cell_staff,
    require_editor,
    require_visible,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
STATUSES = ("pending", "verified", "rejected", "suspended", "dissolved")


def an_association(status: str = "verified", **changes) -> AssociationV1:
    fields = {
        "id": uuid4(),
        "name": "Mizo Fellowship Singapore",
        "country": "SG",
        "city": "Singapore",
        "languages": ["lus"],
        "email": "hello@mizo.sg",
        "status": status,
        "version": 1,
        "registered_at": NOW,
        "updated_at": NOW,
    }
    return AssociationV1(**(fields | changes))


def principal(*, cell: bool = False, administers=()) -> Principal:
    return Principal(
        account_id=uuid4(),
        email="someone@example.org",
        display_name="Someone",
        is_cell_staff=cell,
        administers=[AdministeredAssociation(id=item.id, country=item.country, verified=True) for item in administers],
    )


@pytest.mark.parametrize("status", STATUSES)
def test_only_a_verified_unmerged_association_is_public(status):
    assert is_public(an_association(status), now=NOW) == (status == "verified")
    assert not is_public(an_association(status, merged_into=uuid4()), now=NOW)


@pytest.mark.parametrize("status", STATUSES)
def test_anyone_sees_a_public_association_only_admins_and_the_cell_the_others(status):
    association = an_association(status)
    public = status == "verified"

    assert may_see(None, association, now=NOW) == public
    assert may_see(principal(), association, now=NOW) == public
    assert may_see(principal(administers=[an_association()]), association, now=NOW) == public
    assert may_see(principal(administers=[association]), association, now=NOW)
    assert may_see(principal(cell=True), association, now=NOW)


def test_a_verified_association_past_its_verification_due_date_is_no_longer_public():
    lapsing = an_association(verification_due_at=NOW + timedelta(days=1))

    assert is_public(lapsing, now=NOW)
    assert not is_public(lapsing, now=NOW + timedelta(days=1))
    assert not may_see(principal(), lapsing, now=NOW + timedelta(days=2))
    assert may_see(principal(administers=[lapsing]), lapsing, now=NOW + timedelta(days=2))


def test_unseen_and_missing_are_the_same_not_found():
    pending = an_association("pending")

    with pytest.raises(NotFound) as unseen:
        require_visible(principal(), pending, pending.id, now=NOW)
    with pytest.raises(NotFound) as missing:
        require_visible(principal(), None, pending.id, now=NOW)

    assert unseen.value.message == missing.value.message == f"there is no association with id {pending.id}"
    assert require_visible(None, an_association(), uuid4(), now=NOW).status == "verified"


def test_only_its_admins_and_the_cell_may_edit_an_association():
    association, other = an_association(), an_association()

    require_editor(principal(administers=[association]), association)
    require_editor(principal(cell=True), association)
    with pytest.raises(Forbidden):
        require_editor(principal(administers=[other]), association)
    with pytest.raises(Forbidden):
        require_editor(principal(), association)


def test_cell_only_actions_refuse_everyone_else_naming_the_action():
    require_cell_staff(principal(cell=True), "merge associations")

    with pytest.raises(Forbidden, match="Only the Mizo Diaspora Cell can merge associations."):
        require_cell_staff(principal(administers=[an_association()]), "merge associations")


def test_is_admin_of_needs_a_principal_administering_that_very_association():
    association = an_association()

    assert is_admin_of(principal(administers=[association]), association.id)
    assert not is_admin_of(principal(administers=[an_association()]), association.id)
    assert not is_admin_of(principal(cell=True), association.id)
    assert not is_admin_of(None, association.id)
