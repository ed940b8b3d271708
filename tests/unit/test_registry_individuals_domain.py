"""What each audience may see of a person, and the other rules about individuals and memberships."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.accounts import AdministeredAssociation, Principal
from contracts.errors import Conflict
from contracts.individuals import IndividualDraft, IndividualPatch
from services.registry.individuals import domain
from services.registry.individuals.domain import ASSOCIATION_FIELDS, PUBLIC_FIELDS

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ACCOUNT = uuid4()
CONTACT = {"email", "phone"}
DRAFT = IndividualDraft(
    name="Lalremruati",
    country="AE",
    city="Dubai",
    languages=["lus", "en"],
    email="remruati@example.org",
    phone="+971 50 123 4567",
)


def a_profile(visibility: str) -> dict:
    return domain.new_profile(DRAFT.model_copy(update={"visibility": visibility}), account_id=ACCOUNT, now=NOW)


def principal(**fields) -> Principal:
    return Principal(account_id=uuid4(), email="someone@example.org", display_name="Someone", **fields)


def admin_of(association_id: UUID, *, country: str = "AE", verified: bool = True) -> Principal:
    return principal(administers=[AdministeredAssociation(id=association_id, country=country, verified=verified)])


ASKED_TO_JOIN = uuid4()
AUDIENCES = {
    "self": lambda profile: principal(individual_id=profile["id"]),
    "cell": lambda profile: principal(is_cell_staff=True),
    "verified-same-country": lambda profile: admin_of(uuid4()),
    "unverified-same-country": lambda profile: admin_of(uuid4(), verified=False),
    "verified-other-country": lambda profile: admin_of(uuid4(), country="IN"),
    "asked-to-join-verified-elsewhere": lambda profile: admin_of(ASKED_TO_JOIN, country="IN"),
    # Suspended, merged or past its verification due date since the person asked: it no longer sees them.
    "asked-to-join-no-longer-verified": lambda profile: admin_of(ASKED_TO_JOIN, country="IN", verified=False),
    "signed-in-nobody": lambda profile: principal(),
    "anonymous": lambda profile: None,
}
EVERYTHING = "everything"
EXPECTED = {
    # audience: (private, associations, public)
    "self": (EVERYTHING, EVERYTHING, EVERYTHING),
    "cell": (EVERYTHING, EVERYTHING, EVERYTHING),
    "verified-same-country": (None, ASSOCIATION_FIELDS, ASSOCIATION_FIELDS),
    "unverified-same-country": (None, None, PUBLIC_FIELDS),
    "verified-other-country": (None, None, PUBLIC_FIELDS),
    "asked-to-join-verified-elsewhere": (ASSOCIATION_FIELDS, ASSOCIATION_FIELDS, ASSOCIATION_FIELDS),
    "asked-to-join-no-longer-verified": (None, None, PUBLIC_FIELDS),
    "signed-in-nobody": (None, None, PUBLIC_FIELDS),
    "anonymous": (None, None, PUBLIC_FIELDS),
}
CASES = [
    (audience, visibility, expected[index])
    for audience, expected in EXPECTED.items()
    for index, visibility in enumerate(("private", "associations", "public"))
]


@pytest.mark.parametrize(("audience", "visibility", "expected"), CASES)
def test_each_audience_sees_what_the_persons_visibility_allows(audience, visibility, expected):
    profile = a_profile(visibility)
    actor = AUDIENCES[audience](profile)

    fields = domain.audience_fields(actor, profile, membership_association_ids={ASKED_TO_JOIN})

    assert fields == (tuple(profile) if expected == EVERYTHING else expected)


@pytest.mark.parametrize(("audience", "visibility", "expected"), CASES)
def test_contact_details_go_only_to_the_person_and_the_cell(audience, visibility, expected):
    profile = a_profile(visibility)

    fields = domain.audience_fields(AUDIENCES[audience](profile), profile, membership_association_ids={ASKED_TO_JOIN})

    shown = set(fields or ())
    assert CONTACT.issubset(shown) == (audience in {"self", "cell"})
    if audience not in {"self", "cell"}:
        assert not CONTACT & shown


def test_public_fields_are_name_city_and_languages_only():
    assert set(PUBLIC_FIELDS) == {"id", "name", "city", "languages"}
    assert not CONTACT & set(ASSOCIATION_FIELDS)


def test_an_admin_of_an_association_the_person_did_not_ask_to_join_sees_no_private_profile():
    profile = a_profile("private")

    assert domain.audience_fields(admin_of(uuid4()), profile, membership_association_ids=set()) is None


def test_an_admin_of_several_associations_sees_through_the_verified_one_of_the_country():
    profile = a_profile("associations")
    actor = principal(
        administers=[
            AdministeredAssociation(id=uuid4(), country="AE", verified=False),
            AdministeredAssociation(id=uuid4(), country="AE", verified=True),
        ]
    )

    assert domain.audience_fields(actor, profile, membership_association_ids=set()) == ASSOCIATION_FIELDS


def test_a_new_profile_keeps_the_draft_without_membership_requests():
    draft = DRAFT.model_copy(update={"membership_requests": [uuid4()]})

    profile = domain.new_profile(draft, account_id=ACCOUNT, now=NOW)

    assert "membership_requests" not in profile
    assert (profile["account_id"], profile["version"], profile["registered_at"], profile["updated_at"]) == (
        ACCOUNT,
        1,
        NOW,
        NOW,
    )
    assert profile["phone"] == "+971501234567"


def test_an_edit_that_changes_nothing_is_none():
    profile = a_profile("private")

    assert domain.edited_profile(profile, IndividualPatch(city="Dubai", languages=["lus", "eng"]), now=NOW) is None


def test_an_edit_bumps_the_version_and_changes_only_the_fields_sent():
    profile = a_profile("private")

    edited = domain.edited_profile(profile, IndividualPatch(visibility="public", phone=None), now=NOW + timedelta(1))

    assert edited == profile | {"visibility": "public", "phone": None, "version": 2, "updated_at": NOW + timedelta(1)}


def test_events_never_carry_contact_details():
    profile = a_profile("public")

    event = domain.registered_event(profile, [], NOW)

    dumped = event.model_dump_json()
    assert "remruati@example.org" not in dumped
    assert "+971501234567" not in dumped
    assert (event.aggregate_id, event.aggregate_version, event.individual.name) == (profile["id"], 1, "Lalremruati")


def test_the_deleted_event_is_the_version_after_the_last():
    profile = a_profile("private") | {"version": 4}

    assert domain.deleted_event(profile, NOW).aggregate_version == 5


@pytest.mark.parametrize(("decision", "status"), [("accept", "accepted"), ("decline", "declined")])
def test_a_membership_request_is_accepted_or_declined_once(decision, status):
    request = domain.new_membership(uuid4(), uuid4(), NOW)
    assert request.status == "requested"

    decided = domain.decide_membership(request, decision, NOW + timedelta(hours=1))

    assert (decided.status, decided.decided_at) == (status, NOW + timedelta(hours=1))
    for again in ("accept", "decline"):
        with pytest.raises(Conflict, match=f"already {status}"):
            domain.decide_membership(decided, again, NOW)
