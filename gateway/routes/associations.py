"""Association routes: registration, reading, edits, the Cell's decisions, history, merges."""

from werkzeug.wrappers import Request

from contracts.associations import AssociationDraft, AssociationPatch, MergeRequest
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.http import api, read_json


class AssociationRoutes:
    @api("POST", "/api/v1/associations")
    def register_association(self, request: Request):
        draft = parse(AssociationDraft, read_json(request))
        return 201, self.registry.register_association(session_token_of(request), draft.model_dump(mode="json"))

    @api("GET", "/api/v1/associations/<string:association_id>")
    def get_association(self, request: Request, association_id: str):
        return self.registry.get_association(session_token_of(request), association_id)

    @api("PATCH", "/api/v1/associations/<string:association_id>")
    def update_association(self, request: Request, association_id: str):
        patch = parse(AssociationPatch, read_json(request))
        return self.registry.update_association(
            session_token_of(request), association_id, patch.model_dump(mode="json", include=patch.model_fields_set)
        )

    @api("POST", "/api/v1/associations/<string:association_id>/verification")
    def decide_association(self, request: Request, association_id: str):
        return self.registry.decide_association(session_token_of(request), association_id, read_json(request))

    @api("GET", "/api/v1/associations/<string:association_id>/history")
    def association_history(self, request: Request, association_id: str):
        return {"items": self.registry.association_history(session_token_of(request), association_id)}

    @api("POST", "/api/v1/associations/<string:association_id>/merge")
    def merge_association(self, request: Request, association_id: str):
        merge = parse(MergeRequest, read_json(request))
        return self.registry.merge_association(session_token_of(request), association_id, str(merge.into))
