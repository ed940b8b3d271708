"""The Mizo Diaspora Cell's dashboard: associations waiting for verification with their likely duplicates side by
side (verify, reject, merge), verifications due, help requests by status with the overdue ones first, advisories
with their safety-check counts, and associations per country and per language as bar charts drawn on the server.

The registry, alerts and search decide what Cell staff may see and do; this page asks and shows.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.advisories import AdvisoryList, SafetyCounts
from contracts.alerts import HelpRequestList, HelpRequestV1
from contracts.associations import AssociationV1, ReviewPage, VerificationDecision
from contracts.errors import DiasporaHubError, Forbidden, Unauthenticated
from contracts.search import AssociationResults
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.accounts import signed_in_principal
from gateway.pages.forms import refusal, refusal_text
from gateway.pages.rendering import page, redirect, render
from gateway.public_reads import association_key

QUEUE_SIZE = 20
CHART_BARS = 12
STATUS_ORDER = ("open", "claimed", "in_progress", "resolved", "referred", "cancelled")


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: float
    """Of the chart's width, 0 to 100."""


def bars(counts: dict[str, int], *, limit: int = CHART_BARS) -> list[Bar]:
    """The largest counts, as bars scaled to the largest."""
    largest = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    top = max((count for _, count in largest), default=0)
    return [Bar(label, count, 100 * count / top if top else 0) for label, count in largest]


def overdue(item: HelpRequestV1, now: datetime) -> bool:
    return item.status == "open" and item.next_escalation_at is not None and item.next_escalation_at <= now


def by_status_overdue_first(items: list[HelpRequestV1], now: datetime) -> dict[str, list[HelpRequestV1]]:
    """Each status's requests, the overdue first and then the oldest: what has waited longest comes first."""
    grouped = {status: [] for status in STATUS_ORDER}
    for item in sorted(items, key=lambda item: (not overdue(item, now), item.created_at)):
        grouped[item.status].append(item)
    return {status: listed for status, listed in grouped.items() if listed}


class CellPages:
    @page("GET", "/cell")
    def cell_page(self, request: Request):
        return self.cell_dashboard(request, done=request.args.get("done"), message=None)

    def cell_dashboard(self, request: Request, **context):
        principal = signed_in_principal(self, request)
        if not principal.is_cell_staff:
            raise Forbidden("Only the Mizo Diaspora Cell's staff see this page.")
        token, caller = session_token_of(request), principal.model_dump(mode="json")
        queue = ReviewPage.model_validate(
            self.registry.review_associations(token, {"status": "pending", "page": 1, "size": QUEUE_SIZE})
        )
        duplicates = {
            str(item.id): AssociationV1.model_validate(
                self.registry.get_association(token, str(item.possible_duplicates[0].id))
            )
            for item in queue.items
            if item.possible_duplicates
        }
        due = [AssociationV1.model_validate(item) for item in self.registry.associations_due_for_verification(token)]
        requests = HelpRequestList.model_validate(
            self.alerts.list_help_requests(caller, {"status": None, "mine": False, "association_id": None})
        )
        advisories = AdvisoryList.model_validate(self.alerts.list_advisories({"page": 1, "size": 10}))
        safety = {
            str(advisory.id): SafetyCounts.model_validate(self.alerts.safety_counts(caller, str(advisory.id)))
            for advisory in advisories.items
            if advisory.safety_check
        }
        facets = AssociationResults.model_validate(self.search.search_associations({"size": 1}, caller)).facets
        now = datetime.now(UTC)
        return render(
            request, "cell.html", queue=queue, duplicates=duplicates, due=due[:QUEUE_SIZE],
            requests=by_status_overdue_first(requests.items, now), now=now, advisories=advisories.items,
            safety=safety, countries=bars(facets.country), languages_chart=bars(facets.language),
            help_countries=bars(Counter(item.country for item in requests.items if item.country)), **context,
        )  # fmt: skip

    @page("POST", "/cell/associations/<string:association_id>/verification")
    def verification_form(self, request: Request, association_id: str, form: MultiDict):
        decision = {"decision": form.get("decision", ""), "reason": form.get("reason", "").strip() or None}
        try:
            decided = parse(VerificationDecision, decision).model_dump(mode="json")
            self.registry.decide_association(session_token_of(request), association_id, decided)
            self.public_reads.forget(association_key(association_id))
        except DiasporaHubError as exc:
            return self.refused(request, exc)
        return redirect(request, f"/cell?done={decision['decision']}")

    @page("POST", "/cell/associations/<string:association_id>/merge")
    def merge_form(self, request: Request, association_id: str, form: MultiDict):
        try:
            self.registry.merge_association(session_token_of(request), association_id, form.get("into", ""))
            self.public_reads.forget(association_key(association_id), association_key(form.get("into", "")))
        except DiasporaHubError as exc:
            return self.refused(request, exc)
        return redirect(request, "/cell?done=merge")

    def refused(self, request: Request, exc: DiasporaHubError):
        if isinstance(exc, Unauthenticated):
            raise exc
        refused = refusal(exc)
        return self.cell_dashboard(request, done=None, message=refusal_text(refused), status=refused["status"])
