"""The registry's association RPCs: servicekit's rpc parses the contracts, the handlers do the work."""

from uuid import UUID

from nameko.timer import timer

from contracts.associations import (
    AssociationChange,
    AssociationDraft,
    AssociationPatch,
    AssociationV1,
    ReviewPage,
    ReviewQuery,
    VerificationDecision,
)
from contracts.errors import EXPECTED_ERRORS
from servicekit.database import reads_only
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from services.registry.associations import handlers
from services.registry.individuals.entrypoints import id_of

MAX_PAGE = 1000
LAPSE_EVERY_SECONDS = 600


def association_id_of(value: str) -> UUID:
    return id_of(value, "association")


class AssociationEntrypoints:
    """Mixed into RegistryService, which provides `unit_of_work`, `gazetteer` and (AccountEntrypoints') `clock`."""

    @timer(interval=LAPSE_EVERY_SECONDS)
    def lapse_overdue_verifications(self) -> None:
        handlers.lapse_overdue_verifications(unit_of_work=self.unit_of_work, now=self.clock())

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def register_association(self, token: str | None, draft: AssociationDraft) -> AssociationV1:
        return handlers.register_association(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            now=self.clock(),
            token=token,
            draft=draft,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    @reads_only
    def get_association(self, token: str | None, association_id: str) -> AssociationV1:
        return handlers.get_association(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=association_id_of(association_id),
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def update_association(self, token: str | None, association_id: str, patch: AssociationPatch) -> AssociationV1:
        return handlers.update_association(
            unit_of_work=self.unit_of_work,
            locate_city=self.gazetteer.locate,
            now=self.clock(),
            token=token,
            association_id=association_id_of(association_id),
            patch=patch,
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def decide_association(
        self, token: str | None, association_id: str, decision: VerificationDecision
    ) -> AssociationV1:
        return handlers.decide(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=association_id_of(association_id),
            decision=decision.decision,
            reason=decision.reason,
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def merge_association(self, token: str | None, association_id: str, into: str) -> AssociationV1:
        return handlers.merge(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=association_id_of(association_id),
            into=association_id_of(into),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def association_history(self, token: str | None, association_id: str) -> list[AssociationChange]:
        return handlers.history(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=association_id_of(association_id),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def review_associations(self, token: str | None, query: ReviewQuery) -> ReviewPage:
        return handlers.review_queue(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            status=query.status,
            page=query.page,
            size=query.size,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def associations_due_for_verification(self, token: str | None) -> list[AssociationV1]:
        return handlers.due_for_verification(unit_of_work=self.unit_of_work, now=self.clock(), token=token)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=("search", "messaging"))  # only the services rebuilding from it
    def associations_after(self, after_id: str | None, limit: int) -> list[AssociationV1]:
        """For services rebuilding what they derive from the registry; the gateway never exposes it."""
        return handlers.associations_after(
            unit_of_work=self.unit_of_work,
            after_id=None if after_id is None else association_id_of(after_id),
            limit=max(1, min(limit, MAX_PAGE)),
        )
