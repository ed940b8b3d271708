"""Association rules: registration, edits and their history, the verification lifecycle, merges."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.associations import AssociationDraft, AssociationPatch, Location
from contracts.errors import Conflict, Invalid
from contracts.events import (
    AssociationDissolvedV1,
    AssociationMergedV1,
    AssociationRegisteredV1,
    AssociationRejectedV1,
    AssociationSuspendedV1,
    AssociationUpdatedV1,
    AssociationVerifiedV1,
)
from services.registry.associations import domain
from services.registry.associations.domain import DECISIONS, VERIFICATION_VALID_FOR, FieldChange
from tests.registry_fakes import FakeGazetteer

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
ACTOR = uuid4()
DUBAI = FakeGazetteer.CITIES[("dubai", "AE")]
SHARJAH = FakeGazetteer.CITIES[("sharjah", "AE")]
STATUSES = ("pending", "verified", "rejected", "suspended", "dissolved")
REASONED = {"reject", "suspend"}


def a_draft(**changes) -> AssociationDraft:
    fields = {
        "name": "Mizo Welfare Association Dubai",
        "alternate_names": ["MWA Dubai"],
        "country": "AE",
        "city": "Dubai",
        "languages": ["lus", "en"],
        "email": "mwa.dubai@example.org",
        "website": "https://mwa-dubai.example.org",
    }
    return AssociationDraft.model_validate(fields | changes)


def registered(status: str = "pending", **changes):
    association, _ = domain.register(
        a_draft(**changes), now=NOW, locate_city=FakeGazetteer().locate, actor=ACTOR, status=status
    )
    return association


def edit(association, **patch):
    return domain.edit(
        association, AssociationPatch.model_validate(patch), now=LATER, locate_city=FakeGazetteer().locate, actor=ACTOR
    )


def in_status(status: str):
    return registered().model_copy(update={"status": status})


# Registration


def test_a_new_association_is_pending_at_version_1_and_announced():
    association, event = domain.register(a_draft(), now=NOW, locate_city=FakeGazetteer().locate, actor=ACTOR)

    assert association.status == "pending"
    assert association.version == 1
    assert association.verification_due_at is None
    assert association.registered_at == association.updated_at == NOW
    assert association.model_dump(include=set(AssociationDraft.model_fields) - {"location"}) == (
        a_draft().model_dump(exclude={"location"})
    )
    assert isinstance(event, AssociationRegisteredV1)
    assert (event.aggregate_id, event.aggregate_version, event.occurred_at) == (association.id, 1, NOW)
    assert event.association == association
    assert event.actor_account_id == ACTOR


def test_the_location_comes_from_the_gazetteer_when_not_given():
    assert registered().location == DUBAI


def test_a_given_location_is_kept_and_the_gazetteer_not_asked():
    asked = []

    def locate(city, country):
        asked.append((city, country))
        return DUBAI

    association, _ = domain.register(
        a_draft(location={"lat": 25.2, "lon": 55.27}), now=NOW, locate_city=locate, actor=ACTOR
    )

    assert association.location == Location(lat=25.2, lon=55.27)
    assert asked == []


def test_a_city_the_gazetteer_does_not_know_has_no_location():
    assert registered(city="Jebel Ali Village").location is None


def test_an_import_may_register_it_verified_for_a_year():
    association = registered(status="verified")

    assert association.status == "verified"
    assert association.verification_due_at == NOW + VERIFICATION_VALID_FOR


def test_every_registration_gets_its_own_id_and_event_id():
    first, first_event = domain.register(a_draft(), now=NOW, locate_city=FakeGazetteer().locate, actor=None)
    second, second_event = domain.register(a_draft(), now=NOW, locate_city=FakeGazetteer().locate, actor=None)

    assert first.id != second.id
    assert first_event.event_id != second_event.event_id


# Edits


def test_an_edit_records_each_changed_field_with_its_old_and_new_value():
    association = registered()

    updated, changes, event = edit(association, name="Mizo Welfare Association UAE", phone="+971 50 123 4567")

    assert changes == [
        FieldChange("name", "Mizo Welfare Association Dubai", "Mizo Welfare Association UAE"),
        FieldChange("phone", None, "+971501234567"),
    ]
    assert updated.name == "Mizo Welfare Association UAE"
    assert (updated.version, updated.updated_at, updated.registered_at) == (2, LATER, NOW)
    assert isinstance(event, AssociationUpdatedV1)
    assert event.changed_fields == ["name", "phone"]
    assert (event.aggregate_version, event.association) == (2, updated)


def test_history_values_are_json_dates_as_text_and_urls_as_stored():
    association = registered()

    _, changes, _ = edit(
        association,
        website=None,
        office_bearers=[{"name": "Lalthanzara", "title": "President", "term_start": "2025-01-01"}],
    )

    assert changes == [
        FieldChange("website", "https://mwa-dubai.example.org/", None),
        FieldChange(
            "office_bearers",
            [],
            [{"name": "Lalthanzara", "title": "President", "term_start": "2025-01-01", "term_end": None}],
        ),
    ]


@pytest.mark.parametrize(
    "patch",
    [
        {},
        {"name": "Mizo Welfare Association Dubai"},
        {"country": "ae", "languages": ["lus", "eng"]},
        {"website": "https://mwa-dubai.example.org/", "alternate_names": ["MWA Dubai"]},
    ],
    ids=["empty", "same-name", "same-in-other-spelling", "same-url-and-list"],
)
def test_an_edit_that_changes_nothing_raises_no_event_and_no_new_version(patch):
    association = registered()

    updated, changes, event = edit(association, **patch)

    assert (updated, changes, event) == (association, [], None)


def test_a_city_change_moves_the_location_to_the_new_city():
    updated, changes, event = edit(registered(), city="Sharjah")

    assert updated.location == SHARJAH
    assert [change.field for change in changes] == ["city", "location"]
    assert changes[1] == FieldChange("location", DUBAI.model_dump(), SHARJAH.model_dump())
    assert event.changed_fields == ["city", "location"]


def test_a_city_change_with_a_location_given_keeps_the_given_location():
    updated, _, _ = edit(registered(), city="Sharjah", location={"lat": 25.3, "lon": 55.5})

    assert updated.location == Location(lat=25.3, lon=55.5)


def test_a_move_to_a_city_the_gazetteer_does_not_know_clears_the_old_location():
    updated, changes, _ = edit(registered(), city="Hatta")

    assert updated.location is None
    assert FieldChange("location", DUBAI.model_dump(), None) in changes


def test_an_edit_without_a_place_change_keeps_the_location():
    association = registered(location={"lat": 25.2, "lon": 55.27})

    updated, _, _ = edit(association, description="Welfare of Mizos in the Emirates")

    assert updated.location == Location(lat=25.2, lon=55.27)


@pytest.mark.parametrize("required", ["name", "country", "city", "languages", "email"])
def test_clearing_a_required_field_is_refused_by_the_patch(required):
    with pytest.raises(ValidationError, match=f"{required} is required and cannot be cleared"):
        AssociationPatch.model_validate({required: None})


def test_an_optional_field_can_be_cleared():
    association = registered(phone="+971 50 123 4567")

    updated, changes, _ = edit(association, phone=None)

    assert updated.phone is None
    assert changes == [FieldChange("phone", "+971501234567", None)]


def test_an_association_cannot_be_its_own_parent():
    association = registered()

    with pytest.raises(Invalid, match="its own parent"):
        edit(association, parent_id=str(association.id))


def test_a_merged_association_refuses_edits():
    merged = registered().model_copy(update={"merged_into": uuid4()})

    with pytest.raises(Conflict, match="was merged into"):
        edit(merged, name="Another Name")


def test_a_dissolved_association_refuses_edits():
    with pytest.raises(Conflict, match="is dissolved"):
        edit(in_status("dissolved"), name="Another Name")


# Decisions

ALLOWED = [(status, decision) for decision, (applies_to, _, _) in DECISIONS.items() for status in sorted(applies_to)]
REFUSED = [
    (status, decision)
    for decision, (applies_to, _, _) in DECISIONS.items()
    for status in STATUSES
    if status not in applies_to
]


def test_the_decision_table_is_the_lifecycle_the_issue_asks_for():
    assert {decision: (frozenset(applies_to), status) for decision, (applies_to, status, _) in DECISIONS.items()} == {
        "verify": (frozenset({"pending", "rejected", "suspended", "verified"}), "verified"),
        "reject": (frozenset({"pending"}), "rejected"),
        "suspend": (frozenset({"verified"}), "suspended"),
        "dissolve": (frozenset({"pending", "verified", "rejected", "suspended"}), "dissolved"),
    }
    assert len(ALLOWED) + len(REFUSED) == len(STATUSES) * len(DECISIONS)


EVENT_OF = {
    "verify": AssociationVerifiedV1,
    "reject": AssociationRejectedV1,
    "suspend": AssociationSuspendedV1,
    "dissolve": AssociationDissolvedV1,
}


@pytest.mark.parametrize(("status", "decision"), ALLOWED)
def test_an_allowed_decision_sets_the_status_and_raises_its_event(status, decision):
    association = in_status(status)

    updated, changes, event = domain.decide(association, decision, reason="a reason", now=LATER, actor=ACTOR)

    assert updated.status == DECISIONS[decision][1]
    assert (updated.version, updated.updated_at) == (association.version + 1, LATER)
    assert type(event) is EVENT_OF[decision]
    assert (event.aggregate_id, event.aggregate_version, event.association) == (association.id, 2, updated)
    assert event.actor_account_id == ACTOR
    if status != updated.status:
        assert FieldChange("status", status, updated.status) in changes


@pytest.mark.parametrize(("status", "decision"), REFUSED)
def test_a_decision_that_does_not_apply_to_the_status_is_a_conflict(status, decision):
    with pytest.raises(Conflict, match=f"a {status} association cannot be given the decision '{decision}'"):
        domain.decide(in_status(status), decision, reason="a reason", now=LATER, actor=ACTOR)


@pytest.mark.parametrize("decision", sorted(REASONED))
@pytest.mark.parametrize("reason", [None, ""])
def test_rejecting_or_suspending_needs_a_reason(decision, reason):
    status = "pending" if decision == "reject" else "verified"

    with pytest.raises(Invalid, match=f"reason: say why.*{decision}"):
        domain.decide(in_status(status), decision, reason=reason, now=LATER, actor=ACTOR)


@pytest.mark.parametrize("decision", sorted(REASONED))
def test_a_reason_of_only_blanks_is_no_reason(decision):
    status = "pending" if decision == "reject" else "verified"

    with pytest.raises(Invalid, match="reason"):
        domain.decide(in_status(status), decision, reason="   ", now=LATER, actor=ACTOR)


def test_a_rejection_keeps_its_reason_in_the_record_and_the_history():
    updated, changes, _ = domain.decide(in_status("pending"), "reject", reason="no such church", now=LATER, actor=ACTOR)

    assert updated.status_reason == "no such church"
    assert changes == [
        FieldChange("status", "pending", "rejected"),
        FieldChange("status_reason", None, "no such church"),
    ]


@pytest.mark.parametrize("decision", ["verify", "dissolve"])
def test_verifying_or_dissolving_needs_no_reason(decision):
    updated, _, _ = domain.decide(in_status("pending"), decision, reason=None, now=LATER, actor=ACTOR)

    assert updated.status_reason is None


def test_verifying_sets_the_verification_due_a_year_ahead():
    updated, changes, _ = domain.decide(registered(), "verify", reason=None, now=LATER, actor=ACTOR)

    assert updated.verification_due_at == LATER + timedelta(days=365)
    assert FieldChange(
        "verification_due_at", None, (LATER + timedelta(days=365)).isoformat().replace("+00:00", "Z")
    ) in (changes)


def test_verifying_a_verified_association_renews_it_for_another_year():
    verified, _, _ = domain.decide(registered(), "verify", reason=None, now=LATER, actor=ACTOR)
    renewal = LATER + timedelta(days=360)

    renewed, changes, event = domain.decide(verified, "verify", reason=None, now=renewal, actor=ACTOR)

    assert renewed.verification_due_at == renewal + VERIFICATION_VALID_FOR
    assert [change.field for change in changes] == ["verification_due_at"]
    assert isinstance(event, AssociationVerifiedV1)
    assert renewed.version == verified.version + 1


@pytest.mark.parametrize("decision", ["suspend", "dissolve"])
def test_leaving_verified_clears_the_verification_due_date(decision):
    verified, _, _ = domain.decide(registered(), "verify", reason=None, now=LATER, actor=ACTOR)

    left, _, _ = domain.decide(verified, decision, reason="gone quiet", now=LATER, actor=ACTOR)

    assert left.verification_due_at is None


def test_a_rejection_can_be_put_right_by_verifying_and_the_reason_goes():
    rejected, _, _ = domain.decide(registered(), "reject", reason="no such church", now=LATER, actor=ACTOR)

    verified, _, _ = domain.decide(rejected, "verify", reason=None, now=LATER, actor=ACTOR)

    assert (verified.status, verified.status_reason) == ("verified", None)


@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_a_merged_association_takes_no_decision(decision):
    merged = registered().model_copy(update={"merged_into": uuid4()})

    with pytest.raises(Conflict, match="was merged into"):
        domain.decide(merged, decision, reason="a reason", now=LATER, actor=ACTOR)


# Merges


def test_the_merged_association_points_at_the_kept_one():
    merged, kept = registered(), registered(name="Mizo Welfare Association UAE")

    updated, changes, event = domain.merge(merged, kept, now=LATER, actor=ACTOR)

    assert updated.merged_into == kept.id
    assert (updated.version, updated.updated_at) == (2, LATER)
    assert changes == [FieldChange("merged_into", None, str(kept.id))]
    assert isinstance(event, AssociationMergedV1)
    assert (event.aggregate_id, event.kept_id, event.association, event.actor_account_id) == (
        merged.id,
        kept.id,
        updated,
        ACTOR,
    )


def test_an_association_cannot_be_merged_into_itself():
    association = registered()

    with pytest.raises(Invalid, match="merged into itself"):
        domain.merge(association, association, now=LATER, actor=ACTOR)


def test_a_merged_association_cannot_be_merged_again_nor_kept():
    merged = registered().model_copy(update={"merged_into": uuid4()})
    other = registered()

    with pytest.raises(Conflict):
        domain.merge(merged, other, now=LATER, actor=ACTOR)
    with pytest.raises(Conflict):
        domain.merge(other, merged, now=LATER, actor=ACTOR)


def test_a_dissolved_association_cannot_be_merged_nor_kept():
    dissolved, other = in_status("dissolved"), registered()

    with pytest.raises(Conflict):
        domain.merge(dissolved, other, now=LATER, actor=ACTOR)
    with pytest.raises(Conflict):
        domain.merge(other, dissolved, now=LATER, actor=ACTOR)


@pytest.mark.parametrize(
    "patch",
    [
        {"name": "Government of Mizoram Welfare Office"},
        {"country": "SG", "city": "Singapore"},
        {"city": "Sharjah"},
        {"email": "someone.else@example.org"},
        {"phone": "+971 50 765 4321"},
    ],
)
def test_a_verified_association_changing_what_the_cell_checked_goes_back_to_review(patch):
    verified = registered("verified")
    updated, changes, event = edit(verified, **patch)
    assert updated.status == "pending"
    assert updated.verification_due_at is None
    assert "the Mizo Diaspora Cell reviews it again" in updated.status_reason
    assert {"status", "verification_due_at"} <= {change.field for change in changes}
    assert event.association.status == "pending"


def test_a_verified_association_changing_other_fields_stays_verified():
    verified = registered("verified")
    updated, _, _ = edit(verified, description="We meet on Sundays.", languages=["lus"])
    assert updated.status == "verified"
    assert updated.verification_due_at == verified.verification_due_at


def test_the_cells_own_edit_of_a_verified_association_keeps_it_verified():
    verified = registered("verified")
    updated, _, _ = domain.edit(
        verified,
        AssociationPatch(name="Mizo Welfare Association of Dubai"),
        now=LATER,
        locate_city=FakeGazetteer().locate,
        actor=ACTOR,
        by_cell=True,
    )
    assert updated.status == "verified"
