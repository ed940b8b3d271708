"""Association contracts: what parses, and what a person is told when it does not."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import TypeAdapter

from contracts.associations import AssociationChange, AssociationDraft, ReviewQuery, VerificationDecision
from contracts.errors import Invalid
from contracts.individuals import IndividualAssociationView, IndividualPublicView, IndividualView, MembershipDecision
from contracts.search import AssociationHit, AssociationQuery
from contracts.validation import InvalidPayload, parse


def a_draft(**changes) -> dict:
    draft = {
        "name": "Mizo Welfare Association Singapore",
        "country": "SG",
        "city": "Singapore",
        "languages": ["lus", "en"],
        "email": "hello@mizo.sg",
    }
    draft.update(changes)
    return draft


def problem_of(model, payload, field: str) -> tuple[InvalidPayload, str]:
    """Parse `payload`, expect it to be refused, and return the error with `field`'s problem."""
    with pytest.raises(InvalidPayload) as refused:
        parse(model, payload)
    problems = {problem["field"]: problem["problem"] for problem in refused.value.problems}
    assert field in problems, f"{field} not among the problems {problems}"
    assert field in refused.value.message
    return refused.value, problems[field]


def test_a_valid_draft_parses_with_codes_made_canonical():
    draft = parse(AssociationDraft, a_draft(country="sg", languages=["lus", "en", "lus"]))

    assert draft.country == "SG"
    assert draft.languages == ["lus", "eng"]
    assert draft.name == "Mizo Welfare Association Singapore"
    assert draft.description == ""


def test_a_language_given_in_two_and_three_letters_is_kept_once():
    draft = parse(AssociationDraft, a_draft(languages=["en", "eng", "lus"]))

    assert draft.languages == ["eng", "lus"]


def test_an_invalid_payload_is_an_invalid_error_so_rpc_callers_can_catch_it():
    with pytest.raises(Invalid):
        parse(AssociationDraft, a_draft(country="XX"))


def test_an_unknown_country_is_refused_with_examples_of_valid_codes():
    _, problem = problem_of(AssociationDraft, a_draft(country="XX"), "country")

    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in problem
    assert "SG" in problem


def test_an_unknown_language_is_refused_naming_the_position_in_the_list():
    _, problem = problem_of(AssociationDraft, a_draft(languages=["lus", "zzz"]), "languages.1")

    assert "'zzz' is not an ISO 639-3 language code" in problem


def test_a_missing_name_is_reported_as_required():
    payload = a_draft()
    del payload["name"]

    _, problem = problem_of(AssociationDraft, payload, "name")

    assert problem == "Field required"


def test_an_invalid_email_is_reported_as_not_an_email_address():
    _, problem = problem_of(AssociationDraft, a_draft(email="hello-at-mizo.sg"), "email")

    assert "not a valid email address" in problem


def test_an_unknown_field_is_reported_as_not_part_of_the_request():
    error, problem = problem_of(AssociationDraft, a_draft(president="Pu Lala"), "president")

    assert problem == "is not a field of this request"
    assert error.message == "president: is not a field of this request"


def test_an_empty_list_of_languages_is_refused():
    _, problem = problem_of(AssociationDraft, a_draft(languages=[]), "languages")

    assert "at least 1 item" in problem


def test_every_problem_of_a_payload_is_reported_at_once():
    error, _ = problem_of(AssociationDraft, a_draft(country="XX", email="nobody"), "country")

    assert {problem["field"] for problem in error.problems} == {"country", "email"}
    assert error.message.count(";") == 1


def test_a_query_asking_for_more_than_100_results_a_page_is_refused():
    _, problem = problem_of(AssociationQuery, {"size": 101}, "size")

    assert "less than or equal to 100" in problem


def test_a_query_for_a_page_before_the_first_is_refused():
    _, problem = problem_of(AssociationQuery, {"page": 0}, "page")

    assert "greater than or equal to 1" in problem


def test_a_query_at_the_limits_is_accepted():
    query = parse(AssociationQuery, {"page": 1, "size": 100, "country": "in", "language": "en"})

    assert (query.page, query.size, query.country, query.language) == (1, 100, ["IN"], ["eng"])


# Results: what the registry and search answer, as JSON.


def test_an_individual_view_is_as_much_as_the_audience_may_see():
    views = TypeAdapter(IndividualView)
    seen = {"id": "0b1e6c53-4f7e-4f38-9a43-2f7a3b0c9d11", "name": "Ruati", "city": "Dubai", "languages": ["lus"]}

    assert isinstance(views.validate_python(seen), IndividualPublicView)
    assert isinstance(views.validate_python(seen | {"country": "AE"}), IndividualAssociationView)
    assert views.dump_python(views.validate_python(seen), mode="json") == seen  # no country, no nulls


def test_a_hit_without_a_distance_leaves_it_out_rather_than_null():
    hit = {"id": uuid4(), "name": "MWA", "country": "AE", "city": "Dubai", "languages": ["lus"], "status": "verified"}

    assert "distance_km" not in AssociationHit(**hit).model_dump(mode="json")
    assert AssociationHit(**hit, distance_km=0.0).model_dump(mode="json")["distance_km"] == 0.0


def test_history_times_keep_their_offset_as_before():
    change = AssociationChange(changed_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC), field="city", new_value="Sharjah")

    assert change.model_dump(mode="json")["changed_at"] == "2025-03-01T10:00:00+00:00"


def test_moved_payloads_refuse_unknown_decisions():
    _, problem = problem_of(VerificationDecision, {"decision": "approve"}, "decision")
    assert "'verify', 'reject', 'suspend' or 'dissolve'" in problem
    problem_of(MembershipDecision, {"decision": "maybe"}, "decision")
    problem_of(ReviewQuery, {"size": 500}, "size")
