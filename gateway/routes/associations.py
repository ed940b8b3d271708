"""Association routes: registration, reading, edits, the Cell's decisions, history, merges."""

from werkzeug.wrappers import Request, Response

from contracts.associations import (
    AssociationDraft,
    AssociationHistory,
    AssociationPatch,
    AssociationV1,
    MergeRequest,
    VerificationDecision,
)
from gateway.auth import session_token_of
from gateway.http import Session, api
from gateway.public_reads import association_key


class AssociationRoutes:
    """A change made here is forgotten by this gateway's public reads at once, by the others when its event comes."""

    @api(
        "POST",
        "/api/v1/associations",
        summary="Register an association; the caller becomes its admin",
        who="signed in",
        session=Session.REQUIRED,
        body=AssociationDraft,
        returns=AssociationV1,
        status=201,
    )
    def register_association(self, request: Request, body: AssociationDraft):
        return 201, self.registry.register_association(session_token_of(request), body.model_dump(mode="json"))

    @api(
        "GET",
        "/api/v1/associations/<string:association_id>",
        summary="One association",
        who="anyone (verified), its admins and the Cell (others)",
        session=Session.OPTIONAL,
        returns=AssociationV1,
    )
    def get_association(self, request: Request, association_id: str):
        token, key = session_token_of(request), association_key(association_id)
        if token is not None or key is None:
            return self.registry.get_association(token, association_id)
        # Without a session the answer is the public view, the same for every anonymous caller (public_reads.py).
        kept = self.public_reads.read(key, lambda: self.registry.get_association(None, association_id))
        return Response(kept, mimetype="application/json")

    @api(
        "PATCH",
        "/api/v1/associations/<string:association_id>",
        summary="Change fields; recorded in the history",
        who="its admins, the Cell",
        session=Session.REQUIRED,
        body=AssociationPatch,
        returns=AssociationV1,
    )
    def update_association(self, request: Request, association_id: str, body: AssociationPatch):
        patch = body.model_dump(mode="json", include=body.model_fields_set)
        updated = self.registry.update_association(session_token_of(request), association_id, patch)
        self.public_reads.forget(association_key(association_id))
        return updated

    @api(
        "POST",
        "/api/v1/associations/<string:association_id>/verification",
        summary="Verify, reject, suspend or dissolve",
        who="the Cell (`dissolve`: also its admins)",
        session=Session.REQUIRED,
        body=VerificationDecision,
        returns=AssociationV1,
    )
    def decide_association(self, request: Request, association_id: str, body: VerificationDecision):
        decided = self.registry.decide_association(
            session_token_of(request), association_id, body.model_dump(mode="json")
        )
        self.public_reads.forget(association_key(association_id))
        return decided

    @api(
        "GET",
        "/api/v1/associations/<string:association_id>/history",
        summary="Who changed which field when, old and new value",
        who="its admins, the Cell",
        session=Session.REQUIRED,
        returns=AssociationHistory,
    )
    def association_history(self, request: Request, association_id: str):
        return {"items": self.registry.association_history(session_token_of(request), association_id)}

    @api(
        "POST",
        "/api/v1/associations/<string:association_id>/merge",
        summary="Merge into another association, which is kept",
        who="the Cell",
        session=Session.REQUIRED,
        body=MergeRequest,
        returns=AssociationV1,
    )
    def merge_association(self, request: Request, association_id: str, body: MergeRequest):
        merged = self.registry.merge_association(session_token_of(request), association_id, str(body.into))
        self.public_reads.forget(association_key(association_id), association_key(body.into))
        return merged
