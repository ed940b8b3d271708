"""A help request's case page: its status and timeline, and the steps the reader may take.

The alerts service decides who sees the exact place, the contact and the timeline (the page shows what it gets)
and who may take each step (a refused step comes back as its message above the page). The page only offers the
steps that the reader's role makes likely, as `offered_steps` works out from the principal and the case.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request

from contracts.accounts import Principal
from contracts.alerts import (
    AssociationChoice,
    Cancellation,
    CaseUpdate,
    ClaimRequest,
    Decline,
    HelpRequestV1,
    Referral,
    Resolution,
)
from contracts.errors import DiasporaHubError, Unauthenticated
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.forms import refusal, refusal_text, text_fields
from gateway.pages.rendering import page, redirect, render
from gateway.routes.alerts import principal_if_any

OPEN, HELD = "open", ("claimed", "in_progress")
# step → (the contract of its form, the form's fields, the alerts RPC)
STEPS = {
    "acknowledge": (AssociationChoice, ("association_id",), "acknowledge_help_request"),
    "decline": (Decline, ("association_id", "reason"), "decline_help_request"),
    "claim": (ClaimRequest, ("association_id",), "claim_help_request"),
    "take_over": (ClaimRequest, (), "claim_help_request"),
    "update": (CaseUpdate, ("body",), "update_help_request"),
    "resolve": (Resolution, ("summary",), "resolve_help_request"),
    "refer": (Referral, ("to", "reference", "body"), "refer_help_request"),
    "cancel": (Cancellation, ("cancel_reason",), "cancel_help_request"),
    "release": (None, (), "release_help_request"),
}


@dataclass(frozen=True)
class Offer:
    """The steps to offer, and the associations (verified, that the reader runs) an association's step is for."""

    steps: tuple[str, ...]
    associations: tuple[str, ...] = ()


def offered_steps(case: HelpRequestV1, principal: Principal | None) -> Offer:
    if principal is None or case.status not in (OPEN, *HELD):
        return Offer(steps=())
    mine = tuple(str(item.id) for item in principal.administers if item.verified)
    holder = (
        case.claimed_by == "cell" if principal.is_cell_staff else case.claimed_by in {f"association:{a}" for a in mine}
    )
    steps: list[str] = []
    if case.status == OPEN and mine and not principal.is_cell_staff:
        steps += ["acknowledge", "decline", "claim"]
    if principal.is_cell_staff:
        steps += ["release"] if case.held_for_cell and case.status == OPEN else []
        steps += [] if case.claimed_by == "cell" else ["take_over"]
    if case.status in HELD and (holder or principal.is_cell_staff):
        steps += ["update", "resolve", "refer"]
    requester = case.contact is not None and not holder and not principal.is_cell_staff
    if principal.is_cell_staff or requester:
        steps.append("cancel")
    return Offer(steps=tuple(steps), associations=mine)


def step_payload(step: str, form: MultiDict) -> dict | None:
    contract, fields, _ = STEPS[step]
    if contract is None:
        return None
    values = text_fields(form, fields)
    if step == "cancel":
        values = {"reason": values.get("cancel_reason", ""), "false_alarm": form.get("false_alarm") == "yes"}
    return parse(contract, values).model_dump(mode="json")


class CasePages:
    @page("GET", "/cases/<string:help_request_id>")
    def case_page(self, request: Request, help_request_id: str):
        return self.case_view(request, help_request_id, done=request.args.get("done"), message=None, status=200)

    @page("POST", "/cases/<string:help_request_id>/<string:step>")
    def case_step_form(self, request: Request, help_request_id: str, step: str, form: MultiDict):
        if step not in STEPS:
            raise NotFound("There is no such step for a help request.")
        principal = principal_if_any(self, request)
        if principal is None:
            raise Unauthenticated("Log in to act on a help request.")
        try:
            payload = step_payload(step, form)
            arguments = () if payload is None else (payload,)
            getattr(self.alerts, STEPS[step][2])(principal, help_request_id, *arguments)
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            refused = refusal(exc)
            message = refusal_text(refused)
            return self.case_view(request, help_request_id, done=None, message=message, status=refused["status"])
        return redirect(request, f"/cases/{help_request_id}?{urlencode({'done': step})}")

    def case_view(self, request: Request, help_request_id: str, **context):
        principal = principal_if_any(self, request)
        follow = {"key": request.args.get("key")} if request.args.get("key") else {}
        case = HelpRequestV1.model_validate(self.alerts.get_help_request(principal, help_request_id, follow))
        reader = None if principal is None else Principal.model_validate(principal)
        offer = offered_steps(case, reader)
        names = self.association_names(request, offer.associations) if len(offer.associations) > 1 else {}
        return render(
            request, "case.html", case=case, offer=offer, association_names=names, request_key=bool(follow), **context
        )

    def association_names(self, request: Request, association_ids: tuple[str, ...]) -> dict[str, str]:
        token = session_token_of(request)
        return {id: self.registry.get_association(token, id)["name"] for id in association_ids}
