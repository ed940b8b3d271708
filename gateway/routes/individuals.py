"""Individual and membership routes."""

from werkzeug.wrappers import Request

from contracts.individuals import IndividualDraft, IndividualPatch
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.http import api, read_json


class IndividualRoutes:
    @api("POST", "/api/v1/individuals")
    def register_individual(self, request: Request):
        draft = parse(IndividualDraft, read_json(request))
        return 201, self.registry.register_individual(session_token_of(request), draft.model_dump(mode="json"))

    @api("GET", "/api/v1/individuals/<string:individual_id>")
    def get_individual(self, request: Request, individual_id: str):
        return self.registry.get_individual(session_token_of(request), individual_id)

    @api("PATCH", "/api/v1/individuals/<string:individual_id>")
    def update_individual(self, request: Request, individual_id: str):
        patch = parse(IndividualPatch, read_json(request))
        return self.registry.update_individual(
            session_token_of(request), individual_id, patch.model_dump(mode="json", include=patch.model_fields_set)
        )

    @api("DELETE", "/api/v1/individuals/<string:individual_id>")
    def delete_individual(self, request: Request, individual_id: str):
        self.registry.delete_individual(session_token_of(request), individual_id)
        return 200, {"deleted": individual_id}

    @api("GET", "/api/v1/individuals/<string:individual_id>/export")
    def export_individual(self, request: Request, individual_id: str):
        return self.registry.export_individual(session_token_of(request), individual_id)

    @api("POST", "/api/v1/associations/<string:association_id>/memberships")
    def request_membership(self, request: Request, association_id: str):
        return 201, self.registry.request_membership(session_token_of(request), association_id)

    @api("POST", "/api/v1/memberships/<string:membership_id>/decision")
    def decide_membership(self, request: Request, membership_id: str):
        return self.registry.decide_membership(session_token_of(request), membership_id, read_json(request))
