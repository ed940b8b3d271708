"""Requests to join on pages, wired to a registry kept in memory: the association's admins list and answer them,
a person asks to join from the association's page and follows their requests on their profile."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from nameko.testing.services import worker_factory
from werkzeug.datastructures import MultiDict

from contracts.accounts import Principal
from contracts.errors import Conflict, Forbidden
from gateway.auth import principal_cache
from gateway.pages.associations import AssociationPages
from gateway.pages.individuals import IndividualPages
from gateway.pages.memberships import MembershipPages, waiting_requests
from gateway.public_reads import PublicReadCache, PublicReads
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from tests.unit.test_pages_dashboard import association
from tests.unit.test_pages_help import ASSOCIATION, SECRETARY, KnownSessions, browser_request

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
PERSON = Principal(account_id=uuid4(), email="ruati@example.org", display_name="Ruati", individual_id=uuid4())
NEWCOMER = Principal(account_id=uuid4(), email="newcomer@example.org", display_name="Newcomer")


class MembershipGateway(MembershipPages, AssociationPages, IndividualPages):
    name = "gateway"
    registry = TimedRpcProxy("registry")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)
    public_reads = PublicReads()


class Registry:
    """The registry's membership RPCs over a list of requests; only the secretary decides."""

    def __init__(self):
        self.memberships: list[dict] = []
        self.decisions: list[tuple] = []
        self.association_reads: list[str | None] = []

    def whoami(self, token):
        return {p.email: p for p in (SECRETARY, PERSON, NEWCOMER)}[token].model_dump(mode="json")

    def get_association(self, token, association_id):
        self.association_reads.append(token)
        return association()

    def request_membership(self, token, association_id):
        if token == NEWCOMER.email:
            raise Conflict("register as an individual before asking to join an association")
        asked = {"id": str(uuid4()), "individual_id": str(PERSON.individual_id), "association_id": association_id,
                 "status": "requested", "requested_at": NOW.isoformat(), "decided_at": None}  # fmt: skip
        self.memberships.append(asked)
        return asked

    def get_individual(self, token, individual_id):
        return {
            "id": individual_id, "name": "Lalremruati", "country": "IN", "city": "Chennai", "languages": ["lus"],
            "visibility": "associations", "version": 1, "registered_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(), "memberships": self.memberships,
        }  # fmt: skip

    def association_memberships(self, token, association_id, query):
        if token != SECRETARY.email:
            raise Forbidden("Only a verified association decides who joins it; the Cell reviews yours first.")
        named = [item | {"individual_name": "Lalremruati", "individual_city": "Chennai"} for item in self.memberships]
        return {"items": [item for item in named if query["status"] in (None, item["status"])]}

    def decide_membership(self, token, membership_id, decision):
        self.decisions.append((membership_id, decision["decision"]))
        [found] = [item for item in self.memberships if item["id"] == membership_id]
        found.update(status={"accept": "accepted", "decline": "declined"}[decision["decision"]], decided_at=NOW)
        return found


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def pages(registry):
    return worker_factory(
        MembershipGateway, registry=registry, settings=GatewaySettings(),
        principals=KnownSessions(SECRETARY, PERSON, NEWCOMER), public_reads=serving(PublicReadCache(60)),
    )  # fmt: skip


def serving(cache: PublicReadCache) -> PublicReadCache:
    cache.serving = True  # as when the gateway's listener for association events is connected
    return cache


def text_of(answer) -> str:
    return answer.get_data(as_text=True)


def test_a_person_asks_to_join_from_the_association_page_and_then_sees_it_asked(pages, registry):
    before = text_of(pages.association_page(browser_request("/", as_who=PERSON), str(ASSOCIATION)))
    assert f'action="/associations/{ASSOCIATION}/join"' in before and 'name="csrf_token"' in before

    answer = pages.join_form(browser_request("/", "POST", PERSON), str(ASSOCIATION), MultiDict())

    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/associations/{ASSOCIATION}?done=asked")
    after = text_of(pages.association_page(browser_request("/?done=asked", as_who=PERSON), str(ASSOCIATION)))
    assert "/join" not in after and "You have asked to join." in after
    profile = text_of(pages.profile_page(browser_request("/profile", as_who=PERSON)))
    assert "Chennai Mizo Welfare" in profile and "Waiting for an answer" in profile


def test_someone_without_a_profile_is_sent_to_make_one_and_the_admins_are_not_offered_to_join(pages):
    newcomer = text_of(pages.association_page(browser_request("/", as_who=NEWCOMER), str(ASSOCIATION)))
    assert 'href="/profile"' in newcomer and "/join" not in newcomer
    secretary = text_of(pages.association_page(browser_request("/", as_who=SECRETARY), str(ASSOCIATION)))
    assert "/join" not in secretary and f"/associations/{ASSOCIATION}/dashboard" in secretary
    with pytest.raises(Conflict):
        pages.join_form(browser_request("/", "POST", NEWCOMER), str(ASSOCIATION), MultiDict())


def test_the_secretary_lists_who_asked_and_accepts_one_with_a_form_that_carries_its_csrf_token(pages, registry):
    asked = registry.request_membership(PERSON.email, str(ASSOCIATION))
    listed = text_of(pages.memberships_page(browser_request("/", as_who=SECRETARY), str(ASSOCIATION)))
    assert "Lalremruati" in listed and f'id="accept-{asked["id"]}"' in listed and 'name="csrf_token"' in listed

    form = MultiDict({"decision": "accept"})
    answer = pages.membership_decision_form(
        browser_request("/", "POST", SECRETARY), str(ASSOCIATION), asked["id"], form
    )

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/memberships?done=accepted")
    assert registry.decisions == [(asked["id"], "accept")]
    after = text_of(pages.memberships_page(browser_request("/?done=accepted", as_who=SECRETARY), str(ASSOCIATION)))
    assert "Nobody is waiting for an answer." in after and "The person is now a member." in after


def test_an_unknown_decision_is_refused_on_the_page_and_nothing_is_decided(pages, registry):
    asked = registry.request_membership(PERSON.email, str(ASSOCIATION))
    form = MultiDict({"decision": "maybe"})
    answer = pages.membership_decision_form(
        browser_request("/", "POST", SECRETARY), str(ASSOCIATION), asked["id"], form
    )
    assert answer.status_code == 422 and "Choose to accept or to decline" in text_of(answer)
    assert registry.decisions == []


def test_only_those_the_registry_allows_see_who_asked(pages):
    with pytest.raises(Forbidden):
        pages.memberships_page(browser_request("/", as_who=PERSON), str(ASSOCIATION))


def test_the_dashboard_gets_who_waits_and_nothing_while_the_association_may_not_decide(pages, registry):
    asked = registry.request_membership(PERSON.email, str(ASSOCIATION))
    waiting = waiting_requests(pages, browser_request("/", as_who=SECRETARY), str(ASSOCIATION))
    assert [str(item.id) for item in waiting] == [asked["id"]]
    assert waiting_requests(pages, browser_request("/", as_who=PERSON), str(ASSOCIATION)) is None


def test_anonymous_readers_share_the_kept_public_view_and_a_signed_in_reader_asks_the_registry(pages, registry):
    for _ in range(2):
        anonymous = text_of(pages.association_page(browser_request("/"), str(ASSOCIATION)))
        assert "Log in to write to the association" in anonymous and "Ask to join" not in anonymous
    signed_in = text_of(pages.association_page(browser_request("/", as_who=PERSON), str(ASSOCIATION)))
    assert "Ask to join" in signed_in
    assert registry.association_reads == [None, PERSON.email]
