"""The registry's association RPCs: parse, then hand to the handlers."""

from uuid import UUID

from contracts.associations import AssociationDraft, AssociationPatch, ReviewQuery, VerificationDecision
from contracts.errors import EXPECTED_ERRORS
from contracts.validation import parse
from servicekit.rpc import rpc
from services.registry.associations import handlers
from services.registry.individuals.entrypoints import id_of


def association_id_of(value: str) -> UUID:
    return id_of(value, "association")


class AssociationEntrypoints:
    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def register_association(self, token: str | None, draft: dict) -> dict:
        association = handlers.register_association(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            token=token,
            draft=parse(AssociationDraft, draft),
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def get_association(self, token: str | None, association_id: str) -> dict:
        association = handlers.get_association(
            unit_of_work=self.unit_of_work, token=token, association_id=association_id_of(association_id)
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def update_association(self, token: str | None, association_id: str, patch: dict) -> dict:
        association = handlers.update_association(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            token=token,
            association_id=association_id_of(association_id),
            patch=parse(AssociationPatch, patch),
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def decide_association(self, token: str | None, association_id: str, decision: dict) -> dict:
        decided = parse(VerificationDecision, decision)
        association = handlers.decide(
            unit_of_work=self.unit_of_work,
            token=token,
            association_id=association_id_of(association_id),
            decision=decided.decision,
            reason=decided.reason,
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def merge_association(self, token: str | None, association_id: str, into: str) -> dict:
        association = handlers.merge(
            unit_of_work=self.unit_of_work,
            token=token,
            association_id=association_id_of(association_id),
            into=association_id_of(into),
        )
        return association.model_dump(mode="json")

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def association_history(self, token: str | None, association_id: str) -> list[dict]:
        return handlers.history(
            unit_of_work=self.unit_of_work, token=token, association_id=association_id_of(association_id)
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def review_associations(self, token: str | None, query: dict) -> dict:
        review = parse(ReviewQuery, query)
        return handlers.review_queue(
            unit_of_work=self.unit_of_work, token=token, status=review.status, page=review.page, size=review.size
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def associations_due_for_verification(self, token: str | None) -> list[dict]:
        due = handlers.due_for_verification(unit_of_work=self.unit_of_work, token=token)
        return [association.model_dump(mode="json") for association in due]

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def associations_after(self, after_id: str | None, limit: int) -> list[dict]:
        """For services rebuilding what they derive from the registry; the gateway never exposes it."""
        found = handlers.associations_after(
            unit_of_work=self.unit_of_work,
            after_id=None if after_id is None else association_id_of(after_id),
            limit=max(1, min(int(limit), 1000)),
        )
        return [association.model_dump(mode="json") for association in found]
