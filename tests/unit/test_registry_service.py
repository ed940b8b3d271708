"""RegistryService's association, import and individual RPCs through nameko's worker_factory, with the registry's
ports in memory (tests/registry_fakes.py) and a gazetteer of a few cities."""

import copy
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.errors import Conflict, Forbidden, Invalid, NotFound, TooManyAttempts, Unauthenticated
from contracts.events import (
    AccountDeletedV1,
    AssociationDissolvedV1,
    AssociationMergedV1,
    AssociationRegisteredV1,
    AssociationUpdatedV1,
    AssociationVerifiedV1,
    IndividualDeletedV1,
    IndividualRegisteredV1,
    IndividualUpdatedV1,
    MembershipChangedV1,
)
from services.registry.accounts.handlers import token_hash
from tests.registry_fakes import CALLER_PASSWORD, FakeGazetteer, InMemoryRegistry, registry_worker

MWA = {
    "name": "Mizo Welfare Association Dubai",
    "alternate_names": ["MWA Dubai"],
    "country": "AE",
    "city": "Dubai",
    "languages": ["lus", "en"],
    "email": "mwa.dubai@example.org",
}
SHARJAH = MWA | {"name": "Sharjah Mizo Kohhran", "alternate_names": [], "city": "Sharjah", "email": "smk@example.org"}
PERSON = {"name": "Lalremruati", "country": "AE", "city": "Dubai", "languages": ["lus"], "email": "ruati@example.org"}


@pytest.fixture
def registry() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def service(registry):
    return registry_worker(registry)


@pytest.fixture
def cell(registry):
    return registry.sign_in("cell@mizoram.gov.in", cell_staff=True)


@pytest.fixture
def admin(registry):
    return registry.sign_in("admin@mwa-dubai.example.org")


@pytest.fixture
def other_admin(registry, service, cell):
    """The admin of a second association, verified and in the same country: as strong as a non-Cell account gets."""
    caller = registry.sign_in("admin@smk.example.org")
    theirs = service.register_association(caller.token, SHARJAH)
    service.decide_association(cell.token, theirs["id"], {"decision": "verify"})
    return caller


def verified(service, cell, caller, draft=MWA) -> dict:
    association = service.register_association(caller.token, draft)
    return service.decide_association(cell.token, association["id"], {"decision": "verify"})


def events_of(registry, event_type) -> list:
    return [event for event in registry.committed_events if isinstance(event, event_type)]


class Unchanged:
    """Asserts that the block committed nothing: no state and no event."""

    def __init__(self, registry: InMemoryRegistry):
        self.registry = registry

    def __enter__(self):
        self.before = copy.deepcopy(self.registry.state)

    def __exit__(self, *exc_info):
        assert self.registry.state == self.before


# Registration and reading


def test_registering_makes_the_caller_admin_and_commits_one_registered_event(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    assert association["status"] == "pending"
    assert association["location"] == FakeGazetteer.CITIES[("dubai", "AE")].model_dump()
    [event] = registry.committed_events
    assert isinstance(event, AssociationRegisteredV1)
    assert event.association.model_dump(mode="json") == association
    assert event.actor_account_id == admin.account_id
    assert event.admin_account_ids == [admin.account_id]
    principal = service.whoami(admin.token)
    assert [item["id"] for item in principal["administers"]] == [association["id"]]
    assert principal["administers"][0]["verified"] is False


def test_a_look_alike_in_the_same_country_is_flagged_for_the_cell(service, admin, cell):
    kept = service.register_association(admin.token, MWA)
    elsewhere = service.register_association(admin.token, MWA | {"country": "SG", "city": "Singapore"})

    flagged = service.register_association(admin.token, MWA | {"name": "MWA Dubai", "alternate_names": []})

    review = {item["id"]: item for item in service.review_associations(cell.token, {"status": "pending"})["items"]}
    assert review[flagged["id"]]["possible_duplicates"] == [
        {"id": kept["id"], "name": "Mizo Welfare Association Dubai", "score": 100}
    ]
    assert review[kept["id"]]["possible_duplicates"] == []
    assert elsewhere["id"] not in {candidate["id"] for candidate in review[flagged["id"]]["possible_duplicates"]}


def test_a_parent_that_does_not_exist_is_not_found_and_nothing_is_registered(service, registry, admin):
    with Unchanged(registry), pytest.raises(NotFound, match="parent_id"):
        service.register_association(admin.token, MWA | {"parent_id": str(uuid4())})


def test_an_invalid_draft_is_refused_and_nothing_is_registered(service, registry, admin):
    with Unchanged(registry), pytest.raises(Invalid, match="country"):
        service.register_association(admin.token, MWA | {"country": "XX"})


def test_anyone_reads_a_verified_association_but_a_pending_one_only_its_admins_and_the_cell(
    service, admin, cell, other_admin
):
    pending = service.register_association(admin.token, MWA)
    public = verified(service, cell, admin, MWA | {"name": "Dubai Mizo Kohhran"})

    assert service.get_association(None, public["id"]) == public
    assert service.get_association(other_admin.token, public["id"]) == public
    assert service.get_association(admin.token, pending["id"]) == pending
    assert service.get_association(cell.token, pending["id"]) == pending
    for token in (None, other_admin.token):
        with pytest.raises(NotFound, match=pending["id"]):
            service.get_association(token, pending["id"])


@pytest.mark.parametrize("association_id", ["not-a-uuid", str(uuid4())])
def test_a_malformed_or_unknown_id_is_not_found(service, association_id):
    with pytest.raises(NotFound, match=association_id):
        service.get_association(None, association_id)


# Who may not


def expired_token(registry) -> str:
    caller = registry.sign_in()
    registry.state.sessions[token_hash(caller.token)]["expires_at"] = datetime.now(UTC) - timedelta(seconds=1)
    return caller.token


def revoked_token(registry) -> str:
    caller = registry.sign_in()
    registry.state.sessions[token_hash(caller.token)]["revoked_at"] = datetime.now(UTC)
    return caller.token


SOME_ID = str(uuid4())
SIGNED_IN_CALLS = {
    "register_association": lambda service, token: service.register_association(token, MWA),
    "update_association": lambda service, token: service.update_association(token, SOME_ID, {"name": "New"}),
    "decide_association": lambda service, token: service.decide_association(token, SOME_ID, {"decision": "verify"}),
    "merge_association": lambda service, token: service.merge_association(token, SOME_ID, str(uuid4())),
    "association_history": lambda service, token: service.association_history(token, SOME_ID),
    "review_associations": lambda service, token: service.review_associations(token, {}),
    "associations_due_for_verification": lambda service, token: service.associations_due_for_verification(token),
    "import_associations_csv": lambda service, token: service.import_associations_csv(token, "name\n"),
    "export_associations": lambda service, token: service.export_associations(token, {"format": "json"}),
    "register_individual": lambda service, token: service.register_individual(token, PERSON),
    "update_individual": lambda service, token: service.update_individual(token, SOME_ID, {"city": "Sharjah"}),
    "delete_individual": lambda service, token: service.delete_individual(token, SOME_ID, {"password": "x"}),
    "delete_account": lambda service, token: service.delete_account(token, {"password": "x"}),
    "export_account": lambda service, token: service.export_account(token),
    "export_individual": lambda service, token: service.export_individual(token, SOME_ID),
    "request_membership": lambda service, token: service.request_membership(token, SOME_ID),
    "decide_membership": lambda service, token: service.decide_membership(token, SOME_ID, {"decision": "accept"}),
}
BAD_TOKENS = {
    "none": lambda registry: None,
    "empty": lambda registry: "",
    "unknown": lambda registry: "made-up-token",
    "expired": expired_token,
    "revoked": revoked_token,
}


@pytest.mark.parametrize("token_kind", sorted(BAD_TOKENS))
@pytest.mark.parametrize("call", sorted(SIGNED_IN_CALLS))
def test_every_change_needs_a_valid_session(service, registry, call, token_kind):
    token = BAD_TOKENS[token_kind](registry)

    with Unchanged(registry), pytest.raises(Unauthenticated, match="Sign in first"):
        SIGNED_IN_CALLS[call](service, token)


@pytest.mark.parametrize("token_kind", ["unknown", "expired", "revoked"])
def test_reading_with_a_session_that_is_no_longer_valid_is_refused_rather_than_anonymous(
    service, registry, cell, admin, token_kind
):
    public = verified(service, cell, admin)

    with pytest.raises(Unauthenticated):
        service.get_association(BAD_TOKENS[token_kind](registry), public["id"])


TARGET_CALLS = {
    "update": lambda service, token, target: service.update_association(token, target, {"name": "Taken Over"}),
    "verify": lambda service, token, target: service.decide_association(token, target, {"decision": "verify"}),
    "reject": lambda service, token, target: service.decide_association(
        token, target, {"decision": "reject", "reason": "gone"}
    ),
    "suspend": lambda service, token, target: service.decide_association(
        token, target, {"decision": "suspend", "reason": "gone"}
    ),
    "dissolve": lambda service, token, target: service.decide_association(token, target, {"decision": "dissolve"}),
    "history": lambda service, token, target: service.association_history(token, target),
}


@pytest.mark.parametrize("call", sorted(TARGET_CALLS))
def test_another_associations_admin_is_forbidden_a_visible_association_and_changes_nothing(
    service, registry, admin, cell, other_admin, call
):
    target = verified(service, cell, admin)

    with Unchanged(registry), pytest.raises(Forbidden):
        TARGET_CALLS[call](service, other_admin.token, target["id"])


@pytest.mark.parametrize("call", sorted(TARGET_CALLS))
def test_another_associations_admin_does_not_even_find_a_pending_association(
    service, registry, admin, other_admin, call
):
    target = service.register_association(admin.token, MWA)

    with Unchanged(registry), pytest.raises(NotFound, match=target["id"]):
        TARGET_CALLS[call](service, other_admin.token, target["id"])


@pytest.mark.parametrize("target_status", ["pending", "verified"])
def test_only_the_cell_merges_and_others_learn_nothing_about_the_target(
    service, registry, admin, cell, other_admin, target_status
):
    """Merging is refused before the targets are looked up: a pending target is as unknown as a missing one."""
    target = service.register_association(admin.token, MWA)
    if target_status == "verified":
        service.decide_association(cell.token, target["id"], {"decision": "verify"})
    into = service.register_association(other_admin.token, MWA | {"name": "MWA"})

    for token in (other_admin.token, admin.token):
        for association_id in (target["id"], str(uuid4())):
            with Unchanged(registry), pytest.raises(Forbidden, match="Only the Mizo Diaspora Cell can merge"):
                service.merge_association(token, association_id, into["id"])


@pytest.mark.parametrize("decision", ["verify", "reject", "suspend"])
def test_an_associations_own_admin_cannot_verify_reject_or_suspend_it(service, registry, admin, decision):
    association = service.register_association(admin.token, MWA)

    with Unchanged(registry), pytest.raises(Forbidden, match=f"Only the Mizo Diaspora Cell can {decision}"):
        service.decide_association(admin.token, association["id"], {"decision": decision, "reason": "why not"})


@pytest.mark.parametrize(
    "call",
    [
        lambda service, token: service.review_associations(token, {}),
        lambda service, token: service.associations_due_for_verification(token),
        lambda service, token: service.import_associations_csv(token, "name,country,city,languages,email\n"),
        lambda service, token: service.export_associations(token, {"format": "csv"}),
    ],
    ids=["review", "due", "import", "export"],
)
def test_cell_only_calls_are_forbidden_to_association_admins(service, registry, other_admin, call):
    with Unchanged(registry), pytest.raises(Forbidden, match="Only the Mizo Diaspora Cell"):
        call(service, other_admin.token)


# Edits and history


def test_an_admin_edit_is_recorded_field_by_field_and_announced(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    updated = service.update_association(admin.token, association["id"], {"city": "Sharjah", "phone": "+971501234567"})

    assert (updated["city"], updated["version"]) == ("Sharjah", 2)
    assert updated["location"] == FakeGazetteer.CITIES[("sharjah", "AE")].model_dump()
    [event] = events_of(registry, AssociationUpdatedV1)
    assert event.changed_fields == ["city", "location", "phone"]
    history = service.association_history(admin.token, association["id"])
    assert [(entry["field"], entry["old_value"], entry["new_value"]) for entry in history] == [
        ("city", "Dubai", "Sharjah"),
        ("location", association["location"], updated["location"]),
        ("phone", None, "+971501234567"),
    ]
    assert {entry["account_id"] for entry in history} == {str(admin.account_id)}


def test_an_edit_that_changes_nothing_records_nothing(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    with Unchanged(registry):
        unchanged = service.update_association(admin.token, association["id"], {"name": MWA["name"]})

    assert unchanged == association


def test_clearing_a_required_field_is_invalid(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    with Unchanged(registry), pytest.raises(Invalid, match="name is required and cannot be cleared"):
        service.update_association(admin.token, association["id"], {"name": None})


def test_the_cell_may_edit_any_association(service, registry, admin, cell):
    association = service.register_association(admin.token, MWA)

    service.update_association(cell.token, association["id"], {"description": "Checked by the Cell"})

    [entry] = service.association_history(cell.token, association["id"])
    assert (entry["field"], entry["account_id"]) == ("description", str(cell.account_id))


# Decisions, merges, the review queue


def test_the_cell_verifies_and_the_admins_principal_shows_it(service, registry, admin, cell):
    association = service.register_association(admin.token, MWA)

    decided = service.decide_association(cell.token, association["id"], {"decision": "verify"})

    assert decided["status"] == "verified"
    assert decided["verification_due_at"] is not None
    [event] = events_of(registry, AssociationVerifiedV1)
    assert event.actor_account_id == cell.account_id
    assert service.whoami(admin.token)["administers"][0]["verified"] is True
    assert [entry["field"] for entry in service.association_history(admin.token, association["id"])] == [
        "status",
        "verification_due_at",
    ]


def test_a_refused_decision_changes_nothing(service, registry, admin, cell):
    association = service.register_association(admin.token, MWA)

    with Unchanged(registry), pytest.raises(Conflict):
        service.decide_association(cell.token, association["id"], {"decision": "suspend", "reason": "why"})
    with Unchanged(registry), pytest.raises(Invalid, match="reason"):
        service.decide_association(cell.token, association["id"], {"decision": "reject"})
    with Unchanged(registry), pytest.raises(Invalid, match="decision"):
        service.decide_association(cell.token, association["id"], {"decision": "approve"})


def test_an_admin_may_dissolve_their_own_association(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    dissolved = service.decide_association(admin.token, association["id"], {"decision": "dissolve"})

    assert dissolved["status"] == "dissolved"
    assert len(events_of(registry, AssociationDissolvedV1)) == 1


def test_the_cell_merges_a_duplicate_into_the_kept_one(service, registry, admin, cell):
    kept = service.register_association(admin.token, MWA)
    duplicate = service.register_association(admin.token, MWA | {"name": "MWA Dubai", "alternate_names": []})

    merged = service.merge_association(cell.token, duplicate["id"], kept["id"])

    assert merged["merged_into"] == kept["id"]
    [event] = events_of(registry, AssociationMergedV1)
    assert (str(event.kept_id), event.actor_account_id) == (kept["id"], cell.account_id)
    [entry] = service.association_history(cell.token, duplicate["id"])
    assert (entry["field"], entry["new_value"], entry["account_id"]) == (
        "merged_into",
        kept["id"],
        str(cell.account_id),
    )
    review = service.review_associations(cell.token, {})
    assert [item["id"] for item in review["items"]] == [kept["id"]]
    assert review["items"][0]["possible_duplicates"] == []
    assert service.get_association(cell.token, kept["id"]) == kept


def test_keeping_the_newer_association_drops_the_merged_one_from_its_duplicates(service, admin, cell):
    older = service.register_association(admin.token, MWA)
    newer = service.register_association(admin.token, MWA | {"name": "MWA Dubai", "alternate_names": []})

    service.merge_association(cell.token, older["id"], newer["id"])

    [item] = service.review_associations(cell.token, {})["items"]
    assert (item["id"], item["possible_duplicates"]) == (newer["id"], [])


@pytest.mark.parametrize("into", ["itself", "merged"])
def test_a_merge_into_itself_or_into_a_merged_association_changes_nothing(service, registry, admin, cell, into):
    first = service.register_association(admin.token, MWA)
    second = service.register_association(admin.token, MWA | {"name": "MWA Dubai"})
    service.merge_association(cell.token, second["id"], first["id"])
    third = service.register_association(admin.token, SHARJAH)

    source, target, error = (
        (first["id"], first["id"], Invalid) if into == "itself" else (third["id"], second["id"], Conflict)
    )
    with Unchanged(registry), pytest.raises(error):
        service.merge_association(cell.token, source, target)


def test_the_review_queue_filters_by_status_and_pages(service, admin, cell):
    ids = [service.register_association(admin.token, MWA | {"name": f"Mizo Kohhran {n}"})["id"] for n in "ABC"]
    service.decide_association(cell.token, ids[1], {"decision": "verify"})

    pending = service.review_associations(cell.token, {"status": "pending", "size": 1, "page": 2})

    assert pending["total"] == 2
    assert [item["id"] for item in pending["items"]] == [ids[2]]
    assert service.review_associations(cell.token, {"status": "verified"})["total"] == 1
    with pytest.raises(Invalid):
        service.review_associations(cell.token, {"status": "approved"})


def test_the_cell_sees_which_verifications_are_due(service, registry, admin, cell):
    due = verified(service, cell, admin)
    verified(service, cell, admin, SHARJAH)
    registry.state.associations[uuid_of(due)] = registry.state.associations[uuid_of(due)].model_copy(
        update={"verification_due_at": datetime.now(UTC) - timedelta(days=1)}
    )

    assert [association["id"] for association in service.associations_due_for_verification(cell.token)] == [due["id"]]


def uuid_of(association: dict) -> UUID:
    return UUID(association["id"])


# Imports and exports

CSV = (
    "name,alternate_names,country,city,languages,email\n"
    "Mizo Welfare Association Dubai,MWA Dubai,AE,Dubai,lus;en,mwa@example.org\n"
    "Bad Country,,XX,Dubai,lus,bad@example.org\n"
    "Mizo Fellowship Singapore,,SG,Singapore,lus,mfs@example.org\n"
    "MWA Dubai,,AE,Dubai,lus,mwa2@example.org\n"
)


def test_an_import_reports_bad_rows_imports_the_rest_and_flags_look_alikes(service, registry, cell):
    report = service.import_associations_csv(cell.token, CSV)

    assert report["rows"] == 4
    assert [bad["line"] for bad in report["bad_rows"]] == [3]
    assert [row["line"] for row in report["imported"]] == [2, 4, 5]
    assert report["already_imported"] == []
    assert len(events_of(registry, AssociationRegisteredV1)) == 3
    items = {item["name"]: item for item in service.review_associations(cell.token, {"status": "pending"})["items"]}
    assert [candidate["name"] for candidate in items["MWA Dubai"]["possible_duplicates"]] == [
        "Mizo Welfare Association Dubai"
    ]


def test_importing_the_same_file_twice_adds_nothing(service, registry, cell):
    service.import_associations_csv(cell.token, CSV)

    with Unchanged(registry):
        again = service.import_associations_csv(cell.token, CSV)

    assert again["imported"] == []
    assert again["already_imported"] == [2, 4, 5]


def test_a_row_twice_in_one_file_is_imported_once(service, registry, cell):
    line = "Mizo Fellowship Singapore,,SG,Singapore,lus,mfs@example.org\n"

    report = service.import_associations_csv(
        cell.token, "name,alternate_names,country,city,languages,email\n" + line * 2
    )

    assert ([row["line"] for row in report["imported"]], report["already_imported"]) == ([2], [3])


def test_a_dry_run_checks_every_row_and_imports_nothing(service, registry, cell):
    with Unchanged(registry):
        report = service.import_associations_csv(cell.token, CSV, 2, False, True)

    assert ([bad["line"] for bad in report["bad_rows"]], report["imported"]) == ([3], [])


def test_an_import_may_register_verified_associations(service, cell):
    report = service.import_associations_csv(cell.token, CSV, 2, True)

    for row in report["imported"]:
        association = service.get_association(None, row["id"])
        assert association["status"] == "verified"
        assert association["verification_due_at"] is not None


def test_the_cell_exports_every_association_as_json_and_csv(service, admin, cell):
    first = service.register_association(admin.token, MWA)
    second = verified(service, cell, admin, SHARJAH)

    as_json = service.export_associations(cell.token, {"format": "json"})
    as_csv = service.export_associations(cell.token, {"format": "csv"})

    assert as_json["format"] == "json"
    assert sorted(item["id"] for item in as_json["items"]) == sorted([first["id"], second["id"]])
    assert (as_csv["format"], as_csv["items"]) == ("csv", [])
    assert as_csv["csv_text"].splitlines()[0].startswith("id,status,name,")
    assert len(as_csv["csv_text"].splitlines()) == 3
    with pytest.raises(Invalid, match="format: "):
        service.export_associations(cell.token, {"format": "xml"})


# Individuals and memberships


@pytest.fixture
def person(registry):
    return registry.sign_in("ruati@example.org")


def test_registering_an_individual_announces_them_without_contact_details(service, registry, person):
    profile = service.register_individual(person.token, PERSON | {"phone": "+971 50 123 4567"})

    assert (profile["email"], profile["phone"], profile["memberships"]) == ("ruati@example.org", "+971501234567", [])
    assert "account_id" not in profile
    [event] = registry.committed_events
    assert isinstance(event, IndividualRegisteredV1)
    assert "ruati@example.org" not in event.model_dump_json()
    assert service.whoami(person.token)["individual_id"] == profile["id"]
    with Unchanged(registry), pytest.raises(Conflict, match="already has an individual profile"):
        service.register_individual(person.token, PERSON)


def test_a_membership_request_at_registration_must_name_a_verified_association(service, registry, admin, cell, person):
    pending = service.register_association(admin.token, MWA)
    public = verified(service, cell, admin, SHARJAH)

    with Unchanged(registry), pytest.raises(NotFound, match="verified association"):
        service.register_individual(person.token, PERSON | {"membership_requests": [public["id"], pending["id"]]})
    profile = service.register_individual(person.token, PERSON | {"membership_requests": [public["id"]]})

    assert [membership["association_id"] for membership in profile["memberships"]] == [public["id"]]
    assert len(events_of(registry, MembershipChangedV1)) == 1


@pytest.mark.parametrize(
    ("visibility", "viewer", "expected"),
    [
        ("public", "anonymous", {"id", "name", "city", "languages"}),
        ("associations", "anonymous", None),
        ("associations", "verified-admin-here", {"id", "name", "country", "city", "languages"}),
        ("private", "verified-admin-here", None),
        ("private", "cell", "everything"),
    ],
)
def test_a_profile_shows_each_viewer_what_the_visibility_allows(
    service, admin, cell, person, visibility, viewer, expected
):
    verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON | {"visibility": visibility})
    token = {"anonymous": None, "verified-admin-here": admin.token, "cell": cell.token}[viewer]

    if expected is None:
        with pytest.raises(NotFound, match=profile["id"]):
            service.get_individual(token, profile["id"])
    else:
        shown = service.get_individual(token, profile["id"])
        assert set(shown) == (set(profile) if expected == "everything" else expected)


def test_only_the_person_changes_exports_or_deletes_their_profile(service, registry, person, admin, cell):
    profile = service.register_individual(person.token, PERSON | {"visibility": "public"})

    for caller in (admin, cell):
        with Unchanged(registry):
            with pytest.raises(NotFound):
                service.update_individual(caller.token, profile["id"], {"city": "Sharjah"})
            with pytest.raises(NotFound):
                service.export_individual(caller.token, profile["id"])
            with pytest.raises(NotFound):
                service.delete_individual(caller.token, profile["id"], {"password": CALLER_PASSWORD})


def test_a_person_changes_their_profile_and_an_update_is_announced(service, registry, person):
    profile = service.register_individual(person.token, PERSON)

    changed = service.update_individual(person.token, profile["id"], {"city": "Sharjah", "visibility": "public"})

    assert (changed["city"], changed["visibility"], changed["version"]) == ("Sharjah", "public", 2)
    [event] = events_of(registry, IndividualUpdatedV1)
    assert event.individual.city == "Sharjah"
    with Unchanged(registry):
        service.update_individual(person.token, profile["id"], {"city": "Sharjah"})


@pytest.mark.parametrize("required", ["name", "country", "city", "languages", "visibility"])
def test_clearing_a_required_profile_field_is_invalid(service, registry, person, required):
    profile = service.register_individual(person.token, PERSON)

    with Unchanged(registry), pytest.raises(Invalid, match=required):
        service.update_individual(person.token, profile["id"], {required: None})


def test_a_person_exports_all_their_data(service, admin, cell, person):
    public = verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON | {"membership_requests": [public["id"]]})

    exported = service.export_individual(person.token, profile["id"])

    assert exported["account"]["email"] == "ruati@example.org"
    assert exported["profile"]["email"] == "ruati@example.org"
    assert [(item["association_id"], item["association_name"]) for item in exported["memberships"]] == [
        (public["id"], MWA["name"])
    ]
    assert exported["administers"] == []


def test_deleting_removes_the_person_and_their_account_and_anonymises_memberships(
    service, registry, admin, cell, person
):
    public = verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON | {"membership_requests": [public["id"]]})
    [membership_id] = list(registry.state.memberships)

    service.delete_individual(person.token, profile["id"], {"password": CALLER_PASSWORD})

    assert not registry.account_exists(person.account_id)
    assert registry.open_sessions(person.account_id) == 0
    assert registry.state.individuals == {}
    assert registry.state.memberships[membership_id]["individual_id"] is None
    deleted_profile, deleted_account = registry.committed_events[-2:]
    assert isinstance(deleted_profile, IndividualDeletedV1) and deleted_profile.aggregate_id == uuid_of(profile)
    assert isinstance(deleted_account, AccountDeletedV1) and deleted_account.aggregate_id == person.account_id
    assert deleted_account.administered == []
    with pytest.raises(Unauthenticated):
        service.whoami(person.token)
    with pytest.raises(NotFound):
        service.get_individual(cell.token, profile["id"])


def test_an_admin_accepts_a_membership_request_and_the_member_is_announced(service, registry, admin, cell, person):
    public = verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON)
    request = service.request_membership(person.token, public["id"])

    accepted = service.decide_membership(admin.token, request["id"], {"decision": "accept"})

    assert accepted["status"] == "accepted"
    membership_event, updated_event = registry.committed_events[-2:]
    assert isinstance(membership_event, MembershipChangedV1)
    assert (membership_event.aggregate_id, membership_event.aggregate_version) == (uuid_of(request), 2)
    assert isinstance(updated_event, IndividualUpdatedV1)
    assert [str(association_id) for association_id in updated_event.individual.association_ids] == [public["id"]]
    assert updated_event.aggregate_version == profile["version"] + 1
    with Unchanged(registry), pytest.raises(Conflict, match="already accepted"):
        service.decide_membership(admin.token, request["id"], {"decision": "decline"})
    with Unchanged(registry), pytest.raises(Conflict, match="already asked"):
        service.request_membership(person.token, public["id"])


def test_a_declined_request_announces_the_change_and_no_new_member(service, registry, admin, cell, person):
    public = verified(service, cell, admin)
    service.register_individual(person.token, PERSON)
    request = service.request_membership(person.token, public["id"])

    declined = service.decide_membership(admin.token, request["id"], {"decision": "decline"})

    assert declined["status"] == "declined"
    assert isinstance(registry.committed_events[-1], MembershipChangedV1)
    assert registry.committed_events[-1].individual.association_ids == []
    assert service.request_membership(person.token, public["id"])["status"] == "requested"


def test_another_associations_admin_cannot_decide_a_membership_request(
    service, registry, admin, cell, other_admin, person
):
    public = verified(service, cell, admin)
    service.register_individual(person.token, PERSON)
    request = service.request_membership(person.token, public["id"])

    with Unchanged(registry), pytest.raises(NotFound, match=request["id"]):
        service.decide_membership(other_admin.token, request["id"], {"decision": "accept"})


def test_asking_to_join_needs_a_profile_and_a_verified_association(service, registry, admin, person):
    pending = service.register_association(admin.token, MWA)

    with Unchanged(registry), pytest.raises(Conflict, match="register as an individual"):
        service.request_membership(person.token, pending["id"])
    service.register_individual(person.token, PERSON)
    with Unchanged(registry), pytest.raises(NotFound, match="verified association"):
        service.request_membership(person.token, pending["id"])


def test_the_admin_of_an_association_a_person_asked_to_join_sees_them_without_contact_details(
    service, admin, cell, person
):
    public = verified(service, cell, admin, MWA | {"country": "SG", "city": "Singapore"})
    profile = service.register_individual(person.token, PERSON | {"membership_requests": [public["id"]]})

    shown = service.get_individual(admin.token, profile["id"])

    assert set(shown) == {"id", "name", "country", "city", "languages"}


def test_a_declined_request_no_longer_shows_a_private_person_to_the_association(service, admin, cell, person):
    public = verified(service, cell, admin, MWA | {"country": "SG", "city": "Singapore"})
    profile = service.register_individual(person.token, PERSON | {"membership_requests": [public["id"]]})
    [request] = service.export_individual(person.token, profile["id"])["memberships"]

    service.decide_membership(admin.token, request["id"], {"decision": "decline"})

    with pytest.raises(NotFound):
        service.get_individual(admin.token, profile["id"])


# What verification gives lasts only while it holds (issue 8, point 11)


def past_due(registry, association: dict) -> None:
    registry.state.associations[uuid_of(association)] = registry.state.associations[uuid_of(association)].model_copy(
        update={"verification_due_at": datetime.now(UTC) - timedelta(minutes=1)}
    )


def test_an_association_past_its_verification_due_date_loses_what_verification_gave_it(
    service, registry, admin, cell, person
):
    lapsed = verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON | {"visibility": "associations"})
    service.request_membership(person.token, lapsed["id"])
    past_due(registry, lapsed)

    with pytest.raises(NotFound):
        service.get_association(None, lapsed["id"])
    assert service.whoami(admin.token)["administers"][0]["verified"] is False
    with pytest.raises(NotFound, match=profile["id"]):
        service.get_individual(admin.token, profile["id"])
    assert service.get_association(admin.token, lapsed["id"])["id"] == lapsed["id"]  # its admins still see it


def test_a_lapsed_verification_goes_back_to_pending_review_and_is_announced(service, registry, admin, cell):
    lapsed = verified(service, cell, admin)
    current = verified(service, cell, admin, SHARJAH)
    past_due(registry, lapsed)

    service.lapse_overdue_verifications()

    stored = registry.state.associations[uuid_of(lapsed)]
    assert (stored.status, stored.verification_due_at) == ("pending", None)
    assert stored.status_reason.startswith("verification lapsed on")
    event = registry.committed_events[-1]
    assert isinstance(event, AssociationUpdatedV1)
    assert (event.aggregate_id, event.association.status) == (uuid_of(lapsed), "pending")
    assert registry.state.associations[uuid_of(current)].status == "verified"
    assert service.associations_due_for_verification(cell.token) == []
    assert service.review_associations(cell.token, {"status": "pending"})["items"][0]["id"] == lapsed["id"]


@pytest.mark.parametrize("decision", ["suspend", "merge"])
def test_a_suspended_or_merged_association_no_longer_sees_nor_decides_who_asked_to_join(
    service, registry, admin, cell, person, decision
):
    asked = verified(service, cell, admin)
    profile = service.register_individual(person.token, PERSON | {"visibility": "private"})
    request = service.request_membership(person.token, asked["id"])
    assert service.get_individual(admin.token, profile["id"])["id"] == profile["id"]
    if decision == "suspend":
        service.decide_association(cell.token, asked["id"], {"decision": "suspend", "reason": "under review"})
    else:
        kept = service.register_association(cell.token, SHARJAH)
        service.merge_association(cell.token, asked["id"], kept["id"])

    with pytest.raises(NotFound, match=profile["id"]):
        service.get_individual(admin.token, profile["id"])
    with Unchanged(registry), pytest.raises(Forbidden, match="verified association"):
        service.decide_membership(admin.token, request["id"], {"decision": "accept"})


# Deleting asks for the password again; every account exports and deletes itself (issue 8, points 12 and 13)


def test_deleting_a_profile_with_a_wrong_password_is_refused_and_deletes_nothing(service, registry, person):
    profile = service.register_individual(person.token, PERSON)

    with pytest.raises(Invalid, match="password: is not your password"):
        service.delete_individual(person.token, profile["id"], {"password": "not my password at all"})

    assert registry.account_exists(person.account_id)
    assert uuid_of(profile) in registry.state.individuals
    for _ in range(4):
        with pytest.raises(Invalid):
            service.delete_individual(person.token, profile["id"], {"password": "still not it"})
    with pytest.raises(TooManyAttempts):
        service.delete_individual(person.token, profile["id"], {"password": CALLER_PASSWORD})


def test_an_account_without_a_profile_exports_and_deletes_itself(service, registry, admin):
    association = service.register_association(admin.token, MWA)

    exported = service.export_account(admin.token)

    assert exported["account"]["email"] == "admin@mwa-dubai.example.org"
    assert (exported["profile"], exported["memberships"]) == (None, [])
    assert exported["administers"] == [association["id"]]
    with pytest.raises(Invalid, match="password"):
        service.delete_account(admin.token, {"password": "wrong password here"})
    assert registry.account_exists(admin.account_id)

    service.delete_account(admin.token, {"password": CALLER_PASSWORD})

    assert not registry.account_exists(admin.account_id)
    assert registry.open_sessions(admin.account_id) == 0
    assert registry.state.associations[uuid_of(association)].name == MWA["name"]  # the association stays
    [announced] = [event for event in registry.committed_events if isinstance(event, AccountDeletedV1)]
    assert (announced.aggregate_id, announced.administered) == (admin.account_id, [uuid_of(association)])
    with pytest.raises(Unauthenticated):
        service.whoami(admin.token)


def test_an_account_with_a_profile_exports_it_and_deleting_the_account_deletes_it_announced(service, registry, person):
    profile = service.register_individual(person.token, PERSON)

    assert service.export_account(person.token)["profile"]["email"] == PERSON["email"]
    service.delete_account(person.token, {"password": CALLER_PASSWORD})

    assert registry.state.individuals == {}
    assert not registry.account_exists(person.account_id)
    deleted_profile, deleted_account = registry.committed_events[-2:]
    assert isinstance(deleted_profile, IndividualDeletedV1) and deleted_profile.aggregate_id == uuid_of(profile)
    assert isinstance(deleted_account, AccountDeletedV1) and deleted_account.aggregate_id == person.account_id
