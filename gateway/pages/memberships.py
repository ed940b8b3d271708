"""Requests to join an association. Its admins (while it is verified) and the Cell list them and accept or decline
them on a page of their own, linked from the dashboard; a person asks to join from the association's page and
follows their requests on their profile. The registry decides who may see and decide; these pages ask and show."""

from uuid import UUID

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.accounts import Principal
from contracts.associations import AssociationV1
from contracts.errors import DiasporaHubError, Forbidden, Invalid, NotFound, Unauthenticated
from contracts.individuals import AssociationMembership, AssociationMembershipList, IndividualFullView, MembershipV1
from gateway.auth import session_token_of
from gateway.pages.forms import refusal
from gateway.pages.rendering import page, redirect, render

SHOWN_DECIDED = 50
SHOWN_OWN = 20
DECISIONS = {"accept": "accepted", "decline": "declined"}


def waiting_requests(service, request: Request, association_id: str) -> list[AssociationMembership] | None:
    """Who waits for an answer, for the dashboard; None while the association may not decide (not yet verified)."""
    try:
        listed = service.registry.association_memberships(
            session_token_of(request), association_id, {"status": "requested"}
        )
    except Forbidden:
        return None
    return AssociationMembershipList.model_validate(listed).items


def own_requests(service, request: Request, profile: IndividualFullView | None) -> list[dict]:
    """The person's requests to join, newest first, each with the association's name while they may still see it."""
    if profile is None:
        return []
    token = session_token_of(request)
    named = []
    for membership in sorted(profile.memberships, key=lambda item: item.requested_at, reverse=True)[:SHOWN_OWN]:
        try:
            name = service.registry.get_association(token, str(membership.association_id))["name"]
        except NotFound:
            name = None
        named.append({"membership": membership, "association_name": name})
    return named


def joining_state(service, request: Request, principal: Principal, association_id: UUID) -> str:
    """What the association's page offers the reader: `no_profile`, `ask`, or the status of their latest request."""
    if principal.individual_id is None:
        return "no_profile"
    answer = service.registry.get_individual(session_token_of(request), str(principal.individual_id))
    asked: list[MembershipV1] = [
        membership
        for membership in IndividualFullView.model_validate(answer).memberships
        if membership.association_id == association_id and membership.status in ("requested", "accepted")
    ]
    return asked[-1].status if asked else "ask"


class MembershipPages:
    @page("GET", "/associations/<string:association_id>/memberships")
    def memberships_page(self, request: Request, association_id: str):
        return self.memberships(request, association_id, done=request.args.get("done"), message=None)

    def memberships(self, request: Request, association_id: str, **context):
        token = session_token_of(request)
        if token is None:
            raise Unauthenticated("Log in to see who asked to join.")
        association = AssociationV1.model_validate(self.registry.get_association(token, association_id))
        listed = AssociationMembershipList.model_validate(
            self.registry.association_memberships(token, association_id, {"status": None})
        )
        waiting = [item for item in listed.items if item.status == "requested"]
        decided = [item for item in reversed(listed.items) if item.status != "requested"][:SHOWN_DECIDED]
        return render(request, "memberships.html", association=association, waiting=waiting, decided=decided, **context)

    @page("POST", "/associations/<string:association_id>/memberships/<string:membership_id>")
    def membership_decision_form(self, request: Request, association_id: str, membership_id: str, form: MultiDict):
        decision = form.get("decision", "")
        try:
            if decision not in DECISIONS:
                raise Invalid("Choose to accept or to decline the request.")
            self.registry.decide_membership(session_token_of(request), membership_id, {"decision": decision})
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return self.memberships(request, association_id, done=None, status=refusal(exc)["status"],
                                    message=exc.message)  # fmt: skip
        return redirect(request, f"/associations/{association_id}/memberships?done={DECISIONS[decision]}")

    @page("POST", "/associations/<string:association_id>/join")
    def join_form(self, request: Request, association_id: str, form: MultiDict):
        self.registry.request_membership(session_token_of(request), association_id)
        return redirect(request, f"/associations/{association_id}?done=asked")
