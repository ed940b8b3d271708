"""Help request routes: raise one (with or without an account), follow it, and the steps of the case.

The gateway resolves the session to the caller's principal and passes it on (None without an account); the alerts
service decides who may see and do what. Exact places and contact details leave it only for the requester, the
association that claimed the case and the Cell.
"""

from werkzeug.wrappers import Request

from contracts.alerts import (
    AssociationChoice,
    Cancellation,
    CaseUpdate,
    ClaimRequest,
    Decline,
    FollowKey,
    HelpRequestCreated,
    HelpRequestDraft,
    HelpRequestList,
    HelpRequestQuery,
    HelpRequestV1,
    Referral,
    RequesterBlock,
    RequesterBlockV1,
    Resolution,
)
from contracts.errors import Unauthenticated
from gateway.auth import principal_of, session_token_of
from gateway.forwarding import client_address_of
from gateway.http import Session, api

ALERT = "/api/v1/alerts/<string:help_request_id>"
CASE_HOLDERS = "the association that claimed it, the Cell"
NOTIFIED = "the admins of an association told of it (while open)"


def principal_if_any(service, request: Request) -> dict | None:
    """The caller's principal, None without a session; a session sent but ended is 401, not a stranger."""
    principal = principal_of(service, request)
    if principal is None and session_token_of(request) is not None:
        raise Unauthenticated("Your session has ended; sign in again.")
    return None if principal is None else principal.model_dump(mode="json")


def signed_in(service, request: Request) -> dict:
    principal = principal_if_any(service, request)
    if principal is None:
        raise Unauthenticated("Sign in first: send the session cookie or an `Authorization: Bearer` header.")
    return principal


class AlertRoutes:
    @api("POST", "/api/v1/alerts", summary="Ask for help, for yourself or someone else: the nearest verified"
         " associations are told at once (without an account, the Cell first)", who="anyone (without an account:"
         " `contact` with a name and a phone or e-mail)", session=Session.OPTIONAL, body=HelpRequestDraft,
         returns=HelpRequestCreated, status=201, errors=(403, 429))  # fmt: skip
    def raise_help_request(self, request: Request, body: HelpRequestDraft):
        address = client_address_of(request, self.settings.trusted_proxies)
        principal = principal_if_any(self, request)
        return 201, self.alerts.raise_help_request(principal, body.model_dump(mode="json"), address)

    @api("GET", "/api/v1/alerts", summary="Help requests: the Cell's queue, your own (`mine=true`) or an"
         " association's (`association_id`)", who="signed in; an association's: its admins and the Cell",
         session=Session.REQUIRED, query=HelpRequestQuery, returns=HelpRequestList)  # fmt: skip
    def list_help_requests(self, request: Request, query: HelpRequestQuery):
        return self.alerts.list_help_requests(signed_in(self, request), query.model_dump(mode="json"))

    @api("GET", ALERT, summary="One help request; the exact place, contact details and timeline only for the"
         " requester (or whoever holds its `key`), the association that claimed it and the Cell (each view is"
         " recorded)", who=f"the requester, {NOTIFIED}, {CASE_HOLDERS}", session=Session.OPTIONAL,
         query=FollowKey, returns=HelpRequestV1)  # fmt: skip
    def get_help_request(self, request: Request, help_request_id: str, query: FollowKey):
        principal = principal_if_any(self, request)
        return self.alerts.get_help_request(principal, help_request_id, query.model_dump(mode="json"))

    @api("POST", f"{ALERT}/acknowledge", summary="Say your association has seen it", who=NOTIFIED,
         session=Session.REQUIRED, body=AssociationChoice, returns=HelpRequestV1)  # fmt: skip
    def acknowledge_help_request(self, request: Request, help_request_id: str, body: AssociationChoice):
        return self.alerts.acknowledge_help_request(signed_in(self, request), help_request_id,
                                                    body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/decline", summary="Say your association cannot take it, and why", who=NOTIFIED,
         session=Session.REQUIRED, body=Decline, returns=HelpRequestV1)  # fmt: skip
    def decline_help_request(self, request: Request, help_request_id: str, body: Decline):
        return self.alerts.decline_help_request(signed_in(self, request), help_request_id,
                                                body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/claim", summary="Take the case for your association (409 when another has it); the Cell"
         " assigns it to an association, or takes it over without `association_id`",
         who=f"{NOTIFIED}; the Cell", session=Session.REQUIRED, body=ClaimRequest, returns=HelpRequestV1,
         errors=(409,))  # fmt: skip
    def claim_help_request(self, request: Request, help_request_id: str, body: ClaimRequest):
        return self.alerts.claim_help_request(signed_in(self, request), help_request_id,
                                              body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/updates", summary="Tell the requester and the Cell how the case goes (it is then in"
         " progress)", who=CASE_HOLDERS, session=Session.REQUIRED, body=CaseUpdate, returns=HelpRequestV1,
         errors=(409,))  # fmt: skip
    def update_help_request(self, request: Request, help_request_id: str, body: CaseUpdate):
        return self.alerts.update_help_request(signed_in(self, request), help_request_id,
                                               body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/resolve", summary="Close the case: the person was helped", who=CASE_HOLDERS,
         session=Session.REQUIRED, body=Resolution, returns=HelpRequestV1, errors=(409,))  # fmt: skip
    def resolve_help_request(self, request: Request, help_request_id: str, body: Resolution):
        return self.alerts.resolve_help_request(signed_in(self, request), help_request_id,
                                                body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/refer", summary="Close the case by handing it to an Indian mission, MADAD or another"
         " body, with their reference", who=CASE_HOLDERS, session=Session.REQUIRED, body=Referral,
         returns=HelpRequestV1, errors=(409,))  # fmt: skip
    def refer_help_request(self, request: Request, help_request_id: str, body: Referral):
        return self.alerts.refer_help_request(signed_in(self, request), help_request_id,
                                              body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/cancel", summary="Withdraw the request; the Cell may mark it a false alarm",
         who="the requester, the Cell", session=Session.REQUIRED, body=Cancellation, returns=HelpRequestV1,
         errors=(409,))  # fmt: skip
    def cancel_help_request(self, request: Request, help_request_id: str, body: Cancellation):
        return self.alerts.cancel_help_request(signed_in(self, request), help_request_id,
                                               body.model_dump(mode="json"))  # fmt: skip

    @api("POST", f"{ALERT}/release", summary="Let a request raised without an account go to the associations"
         " near it", who="the Cell", session=Session.REQUIRED, returns=HelpRequestV1, errors=(409,))  # fmt: skip
    def release_help_request(self, request: Request, help_request_id: str):
        return self.alerts.release_help_request(signed_in(self, request), help_request_id)

    @api("POST", f"{ALERT}/block-requester", summary="Stop whoever raised this request raising more: their"
         " account, or without one the address it came from", who="the Cell", session=Session.REQUIRED,
         body=RequesterBlock, returns=RequesterBlockV1)  # fmt: skip
    def block_requester(self, request: Request, help_request_id: str, body: RequesterBlock):
        return self.alerts.block_requester(signed_in(self, request), help_request_id, body.model_dump(mode="json"))
