"""Individual and membership routes."""

from werkzeug.wrappers import Request

from contracts.accounts import PasswordConfirmation
from contracts.http import Deleted
from contracts.individuals import (
    AssociationMembershipList,
    IndividualDraft,
    IndividualExport,
    IndividualPatch,
    IndividualView,
    MembershipDecision,
    MembershipQuery,
    MembershipV1,
)
from gateway.auth import session_token_of
from gateway.http import Session, api


class IndividualRoutes:
    @api(
        "POST",
        "/api/v1/individuals",
        summary="Register the caller's own profile",
        who="signed in",
        session=Session.REQUIRED,
        body=IndividualDraft,
        returns=IndividualView,
        status=201,
    )
    def register_individual(self, request: Request, body: IndividualDraft):
        return 201, self.registry.register_individual(session_token_of(request), body.model_dump(mode="json"))

    @api(
        "GET",
        "/api/v1/individuals/<string:individual_id>",
        summary="A person, as much as the caller may see",
        who="as the person's visibility allows; contact details only to the person and the Cell",
        session=Session.OPTIONAL,
        returns=IndividualView,
    )
    def get_individual(self, request: Request, individual_id: str):
        return self.registry.get_individual(session_token_of(request), individual_id)

    @api(
        "PATCH",
        "/api/v1/individuals/<string:individual_id>",
        summary="Change one's profile",
        who="the person, the Cell",
        session=Session.REQUIRED,
        body=IndividualPatch,
        returns=IndividualView,
    )
    def update_individual(self, request: Request, individual_id: str, body: IndividualPatch):
        patch = body.model_dump(mode="json", include=body.model_fields_set)
        return self.registry.update_individual(session_token_of(request), individual_id, patch)

    @api(
        "DELETE",
        "/api/v1/individuals/<string:individual_id>",
        summary="Delete the profile and the account; memberships are anonymised. Asks for the password again",
        who="the person, the Cell",
        session=Session.REQUIRED,
        body=PasswordConfirmation,
        returns=Deleted,
        errors=(429,),
    )
    def delete_individual(self, request: Request, individual_id: str, body: PasswordConfirmation):
        self.registry.delete_individual(session_token_of(request), individual_id, body.model_dump(mode="json"))
        # A person deleting their own profile deletes their account too: its sessions end here at once.
        self.principals.forget_sessions_of(session_token_of(request))
        return Deleted(deleted=individual_id)

    @api(
        "GET",
        "/api/v1/individuals/<string:individual_id>/export",
        summary="Everything the registry holds about the person",
        who="the person, the Cell",
        session=Session.REQUIRED,
        returns=IndividualExport,
    )
    def export_individual(self, request: Request, individual_id: str):
        return self.registry.export_individual(session_token_of(request), individual_id)

    @api(
        "POST",
        "/api/v1/associations/<string:association_id>/memberships",
        summary="Ask to join an association",
        who="a person with a profile",
        session=Session.REQUIRED,
        returns=MembershipV1,
        status=201,
    )
    def request_membership(self, request: Request, association_id: str):
        return 201, self.registry.request_membership(session_token_of(request), association_id)

    @api(
        "GET",
        "/api/v1/associations/<string:association_id>/memberships",
        summary="The requests to join an association, oldest first, with who asked (never contact details)",
        who="the association's admins while it is verified, the Cell",
        session=Session.REQUIRED,
        query=MembershipQuery,
        returns=AssociationMembershipList,
    )
    def association_memberships(self, request: Request, association_id: str, query: MembershipQuery):
        return self.registry.association_memberships(
            session_token_of(request), association_id, query.model_dump(mode="json")
        )

    @api(
        "POST",
        "/api/v1/memberships/<string:membership_id>/decision",
        summary="Accept or decline a request to join",
        who="the association's admins",
        session=Session.REQUIRED,
        body=MembershipDecision,
        returns=MembershipV1,
    )
    def decide_membership(self, request: Request, membership_id: str, body: MembershipDecision):
        return self.registry.decide_membership(session_token_of(request), membership_id, body.model_dump(mode="json"))
