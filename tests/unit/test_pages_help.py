"""The request-help and case pages wired to an alerts service kept in memory: what the form sends, where the
requester lands, what the case page offers to whom."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from nameko.testing.services import worker_factory
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from contracts.accounts import AdministeredAssociation, Principal
from contracts.alerts import HelpRequestV1
from contracts.errors import Conflict, Unauthenticated
from gateway.auth import SESSION_COOKIE, principal_cache
from gateway.pages.cases import CasePages, offered_steps
from gateway.pages.help import HelpPages
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared

ASSOCIATION = UUID("5f0c3a52-6b1d-4c1e-9a43-0d7f1f3c2b10")
SECRETARY = Principal(
    account_id=uuid4(), email="secretary@example.org", display_name="Mami",
    administers=[AdministeredAssociation(id=ASSOCIATION, country="IN", verified=True)],
)  # fmt: skip
CELL = Principal(account_id=uuid4(), email="cell@example.org", display_name="Cell", is_cell_staff=True)
REQUESTER = Principal(account_id=uuid4(), email="mafaa@example.org", display_name="Mafaa")


class HelpGateway(HelpPages, CasePages):
    name = "gateway"
    registry = TimedRpcProxy("registry")
    alerts = TimedRpcProxy("alerts")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)


class KnownSessions:
    """The principal cache, holding one session per principal (token = its e-mail)."""

    def __init__(self, *principals: Principal):
        self.by_token = {principal.email: principal for principal in principals}

    def get(self, token: str) -> Principal | None:
        return self.by_token.get(token)

    def put(self, token: str, principal: Principal) -> None:
        self.by_token[token] = principal


def case(**changes) -> dict:
    fields = dict(
        id=str(uuid4()), reference="DH-2026-000042", status="open", category="medical", urgency="immediate",
        severity="moderate", country="IN", city="Chennai", approximate_location={"lat": 13.1, "lon": 80.3},
        summary="Fell ill at work", languages=["lus"], held_for_cell=False, claimed_by=None, ring="50km",
        next_escalation_at=None, created_at=datetime(2026, 11, 28, tzinfo=UTC).isoformat(),
    )  # fmt: skip
    return fields | changes


class AlertsInMemory:
    def __init__(self):
        self.raised: list[tuple] = []
        self.steps: list[tuple] = []
        self.case = case()

    def raise_help_request(self, principal, draft, client_address):
        self.raised.append((principal, draft, client_address))
        follow = {"follow_key": "k3y"} if principal is None else {}
        return {"id": self.case["id"], "reference": "DH-2026-000042", "status": "open", "notified_count": 0} | follow

    def get_help_request(self, principal, help_request_id, follow):
        return self.case

    def claim_help_request(self, principal, help_request_id, choice):
        if self.case["status"] != "open":
            raise Conflict("Help request DH-2026-000042 has already been taken by someone else.")
        self.steps.append(("claim", principal["email"], choice))
        self.case = self.case | {"status": "claimed", "claimed_by": f"association:{choice['association_id']}"}
        return self.case


@pytest.fixture
def alerts():
    return AlertsInMemory()


@pytest.fixture
def pages(alerts):
    sessions = KnownSessions(SECRETARY, CELL, REQUESTER)
    return worker_factory(HelpGateway, alerts=alerts, settings=GatewaySettings(), principals=sessions)


def browser_request(path: str, method: str = "GET", as_who: Principal | None = None):
    builder = EnvironBuilder(method=method, path=path, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    if as_who is not None:
        builder.headers["Cookie"] = f"{SESSION_COOKIE}={as_who.email}"
    return builder.get_request()


def test_the_help_form_asks_someone_without_an_account_how_to_reach_them_and_stays_light(pages):
    answer = pages.help_page(browser_request("/help"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'name="phone"' in html and 'id="my-location"' in html
    assert len(answer.get_data()) < 150 * 1024
    signed_in = pages.help_page(browser_request("/help", as_who=REQUESTER)).get_data(as_text=True)
    assert 'name="phone"' not in signed_in and "mafaa@example.org" in signed_in


def test_a_request_without_what_happened_comes_back_with_the_problem_and_what_was_typed(pages, alerts):
    form = MultiDict({"city": "Chennai", "country": "IN", "name": "Mafaa", "description": "Fell ill"})
    answer = pages.help_form_sent(browser_request("/help", "POST"), form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="category-problem"' in html and 'value="Mafaa"' in html
    assert alerts.raised == []


def test_a_request_without_an_account_is_sent_and_the_requester_follows_it_with_its_key(pages, alerts):
    form = MultiDict({
        "category": "medical", "urgency": "immediate", "description": "Fell ill at work", "city": "Chennai",
        "country": "IN", "lat": "13.08268", "lon": "80.27072", "name": "Mafaa", "phone": "+91 98765 43210",
        "languages": "lus",
    })  # fmt: skip
    answer = pages.help_form_sent(browser_request("/help", "POST"), form)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/cases/{alerts.case['id']}?done=sent&key=k3y"
    principal, draft, address = alerts.raised[0]
    assert principal is None and address == "192.0.2.10"
    assert draft["location"] == {"lat": 13.08268, "lon": 80.27072, "country": None, "city": None}
    assert draft["contact"] == {"name": "Mafaa", "phone": "+919876543210", "email": None}
    assert draft["languages"] == ["lus"]


def test_what_the_case_page_offers_follows_the_readers_role():
    open_case = HelpRequestV1.model_validate(case())
    assert offered_steps(open_case, None).steps == ()
    assert offered_steps(open_case, SECRETARY).steps == ("acknowledge", "decline", "claim")
    assert offered_steps(open_case, SECRETARY).associations == (str(ASSOCIATION),)
    assert offered_steps(open_case, CELL).steps == ("take_over", "cancel")
    held = HelpRequestV1.model_validate(case(held_for_cell=True))
    assert offered_steps(held, CELL).steps == ("release", "take_over", "cancel")
    contact = {"name": "Mafaa", "phone": "+919876543210"}
    claimed = HelpRequestV1.model_validate(
        case(status="claimed", claimed_by=f"association:{ASSOCIATION}", contact=contact)
    )
    assert offered_steps(claimed, SECRETARY).steps == ("update", "resolve", "refer")
    assert offered_steps(claimed, REQUESTER).steps == ("cancel",)
    resolved = HelpRequestV1.model_validate(case(status="resolved"))
    assert offered_steps(resolved, CELL).steps == ()


def test_an_association_claims_the_case_and_then_sees_how_to_reach_the_person(pages, alerts):
    form = MultiDict({"association_id": str(ASSOCIATION)})
    answer = pages.case_step_form(browser_request("/", "POST", SECRETARY), alerts.case["id"], "claim", form)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?done=claim")
    assert alerts.steps == [("claim", SECRETARY.email, {"association_id": str(ASSOCIATION)})]
    alerts.case = alerts.case | {"contact": {"name": "Mafaa", "phone": "+919876543210"}}
    html = pages.case_page(browser_request("/", as_who=SECRETARY), alerts.case["id"]).get_data(as_text=True)
    assert 'data-status="claimed"' in html and "+919876543210" in html and 'id="step-update"' in html


def test_a_second_claim_shows_why_it_was_refused(pages, alerts):
    alerts.case = alerts.case | {"status": "claimed", "claimed_by": "association:" + str(uuid4())}
    form = MultiDict({"association_id": str(ASSOCIATION)})
    answer = pages.case_step_form(browser_request("/", "POST", SECRETARY), alerts.case["id"], "claim", form)
    assert answer.status_code == 409 and "already been taken" in answer.get_data(as_text=True)


def test_a_session_that_has_ended_asks_for_help_as_someone_without_an_account(pages, alerts):
    builder = EnvironBuilder(path="/help", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    builder.headers["Cookie"] = f"{SESSION_COOKIE}=ended"
    pages.registry = EndedSessions()
    answer = pages.help_page(builder.get_request())
    assert answer.status_code == 200 and 'name="phone"' in answer.get_data(as_text=True)


class EndedSessions:
    def whoami(self, token):
        raise Unauthenticated("Your session has ended.")
