"""The association's and the Cell's dashboards wired to messaging, alerts, registry and search kept in memory: what
each shows, in which order, and what their forms send."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from nameko.testing.services import worker_factory
from werkzeug.datastructures import MultiDict

from contracts.alerts import HelpRequestV1
from contracts.errors import Forbidden
from gateway.auth import principal_cache
from gateway.pages.cell import CellPages, bars, by_status_overdue_first
from gateway.pages.dashboard import DashboardPages
from gateway.public_reads import PublicReadCache, PublicReads, association_key
from gateway.settings import GatewaySettings
from servicekit.rpc import TimedRpcProxy
from servicekit.shared import Shared
from tests.unit.test_pages_help import ASSOCIATION, CELL, SECRETARY, KnownSessions, browser_request, case

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


class DashboardGateway(DashboardPages, CellPages):
    name = "gateway"
    registry = TimedRpcProxy("registry")
    search = TimedRpcProxy("search")
    messaging = TimedRpcProxy("messaging")
    alerts = TimedRpcProxy("alerts")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)
    public_reads = PublicReads()


def association(**changes) -> dict:
    fields = dict(
        id=str(ASSOCIATION), name="Chennai Mizo Welfare", country="IN", city="Chennai", languages=["lus"],
        email="welfare@example.org", status="verified", version=1, registered_at=NOW.isoformat(),
        updated_at=NOW.isoformat(),
    )  # fmt: skip
    return fields | changes


class Registry:
    def __init__(self):
        self.decisions: list[tuple] = []
        self.duplicate = association(id=str(uuid4()), name="Chennai Mizo Welfare Association")

    def whoami(self, token):
        return {"cell@example.org": CELL, "secretary@example.org": SECRETARY}[token].model_dump(mode="json")

    def get_association(self, token, association_id):
        return self.duplicate if association_id == self.duplicate["id"] else association()

    def review_associations(self, token, query):
        pending = association(id=str(uuid4()), name="Chennai Mizo Welfare Assn", status="pending")
        duplicate = {"id": self.duplicate["id"], "name": self.duplicate["name"], "score": 91}
        return {"total": 1, "items": [pending | {"possible_duplicates": [duplicate]}]}

    def associations_due_for_verification(self, token):
        return []

    def association_memberships(self, token, association_id, query):
        asked = {"id": str(uuid4()), "individual_id": str(uuid4()), "association_id": association_id,
                 "status": "requested", "requested_at": NOW.isoformat(), "individual_name": "Lalnunmawii"}  # fmt: skip
        return {"items": [asked]}

    def decide_association(self, token, association_id, decision):
        self.decisions.append((association_id, decision))
        return association(id=association_id)


class Messaging:
    def __init__(self):
        self.broadcasts: list[tuple] = []

    def get_notification_settings(self, caller, association_id):
        return {"association_id": association_id, "email_mode": "immediate", "email": None, "language": "lus",
                "webhook_url": None}  # fmt: skip

    def inbox(self, caller, query):
        return {"items": [], "unread": 0}

    def list_conversations(self, caller, query):
        return {"items": []}

    def list_deliveries(self, caller, association_id, query):
        failed = {"id": str(uuid4()), "message_id": str(uuid4()), "channel": "webhook", "state": "failed",
                  "attempts": 8, "last_error": "503 from the webhook", "created_at": NOW.isoformat()}  # fmt: skip
        return {"items": [failed]}

    def broadcast(self, caller, draft, key):
        self.broadcasts.append((caller["email"], draft, key))
        return {}


class Alerts:
    def list_help_requests(self, caller, query):
        return {"items": [case(reference="DH-2026-000001", status="claimed"), case(reference="DH-2026-000002")]}

    def list_advisories(self, query):
        return {"total": 0, "items": []}


class Search:
    def search_associations(self, query, principal):
        return {"total": 3, "items": [], "facets": {"country": {"IN": 2, "SG": 1}, "language": {"lus": 3}}}


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def messaging():
    return Messaging()


@pytest.fixture
def public_reads():
    kept = PublicReadCache(60)
    kept.serving = True
    return kept


@pytest.fixture
def pages(registry, messaging, public_reads):
    return worker_factory(
        DashboardGateway, registry=registry, messaging=messaging, alerts=Alerts(), search=Search(),
        settings=GatewaySettings(), principals=KnownSessions(CELL, SECRETARY), public_reads=public_reads,
    )  # fmt: skip


def test_the_association_dashboard_lists_open_help_requests_first_and_failed_deliveries(pages):
    html = pages.dashboard_page(browser_request("/", as_who=SECRETARY), str(ASSOCIATION)).get_data(as_text=True)
    assert html.index("DH-2026-000002") < html.index("DH-2026-000001")
    assert "503 from the webhook" in html and '<option value="lus" selected>' in html
    assert "Lalnunmawii" in html and f'action="/associations/{ASSOCIATION}/memberships/' in html


def test_a_broadcast_goes_to_the_association_s_members_once_per_form(pages, messaging):
    form = MultiDict({"subject": "Christmas service", "body": "At 4 on the 25th.", "form_key": "k-1"})
    answer = pages.broadcast_form(browser_request("/", "POST", SECRETARY), str(ASSOCIATION), form)
    assert answer.status_code == 303
    ((sender, draft, key),) = messaging.broadcasts
    assert draft["audience"]["members_of"] == str(ASSOCIATION) and key == "k-1" and sender == SECRETARY.email


def test_the_cell_sees_a_pending_association_beside_its_likely_duplicate_and_charts_of_the_directory(pages):
    html = pages.cell_page(browser_request("/", as_who=CELL)).get_data(as_text=True)
    assert "Chennai Mizo Welfare Assn" in html and "Chennai Mizo Welfare Association" in html
    assert 'action="/cell/associations/' in html and "Merge into this one" in html
    assert html.count('<rect class="bar"') == 4 and 'width="280.0"' in html  # 2 countries, 1 language, 1 country asking


def test_the_cell_dashboard_is_the_cell_s_alone(pages):
    with pytest.raises(Forbidden):
        pages.cell_page(browser_request("/", as_who=SECRETARY))


def test_the_cell_verifies_an_association_from_its_queue(pages, registry, public_reads):
    public_reads.read(association_key(ASSOCIATION), lambda: {"status": "pending"})
    form = MultiDict({"decision": "verify"})
    answer = pages.verification_form(browser_request("/", "POST", CELL), str(ASSOCIATION), form)
    assert answer.status_code == 303 and registry.decisions == [
        (str(ASSOCIATION), {"decision": "verify", "reason": None})
    ]
    # Anonymous readers of its page are not shown the view from before the decision.
    kept = public_reads.read(association_key(ASSOCIATION), lambda: {"status": "verified"})
    assert json.loads(kept) == {"status": "verified"}


def test_bars_are_scaled_to_the_largest_count_and_overdue_requests_come_first():
    assert [(bar.label, bar.width) for bar in bars({"IN": 4, "SG": 1, "AE": 2})] == [
        ("IN", 100),
        ("AE", 50),
        ("SG", 25),
    ]
    waiting = HelpRequestV1.model_validate(
        case(reference="waiting", next_escalation_at=(NOW + timedelta(hours=1)).isoformat())
    )
    late = HelpRequestV1.model_validate(
        case(reference="late", created_at=NOW.isoformat(), next_escalation_at=(NOW - timedelta(minutes=5)).isoformat())
    )
    assert [item.reference for item in by_status_overdue_first([waiting, late], NOW)["open"]] == ["late", "waiting"]


def test_the_contact_form_sent_empty_shows_the_profile_again_with_what_is_missing(pages):
    form = MultiDict({"subject": "Sunday service"})
    answer = pages.contact_form(browser_request("/", "POST", SECRETARY), str(ASSOCIATION), form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "body:" in html and 'value="Sunday service"' in html
