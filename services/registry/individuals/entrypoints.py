"""The registry's individual and membership RPCs: servicekit's rpc parses the contracts, the handlers do the work."""

from uuid import UUID

from contracts.accounts import PasswordConfirmation
from contracts.errors import EXPECTED_ERRORS, NotFound
from contracts.individuals import (
    AccountExport,
    AssociationMembershipList,
    IndividualDraft,
    IndividualExport,
    IndividualPatch,
    IndividualView,
    MembershipDecision,
    MembershipQuery,
    MembershipV1,
    VersionedIndividualProfile,
    VersionedMembership,
)
from servicekit.database import reads_only
from servicekit.rpc import rpc
from servicekit.rpc_writes import rpc_write
from services.registry.individuals import handlers

MAX_PAGE = 1000


def id_of(value: str, kind: str) -> UUID:
    """An id from a URL: one that is not a UUID names nothing, so it is not found (404), not invalid."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"there is no {kind} with id {value}") from None


class IndividualEntrypoints:
    """Mixed into RegistryService, which provides `unit_of_work` and (AccountEntrypoints') `clock`, `passwords`
    and `account_policy`."""

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def register_individual(self, token: str | None, draft: IndividualDraft) -> IndividualView:
        return handlers.register_individual(unit_of_work=self.unit_of_work, now=self.clock(), token=token, draft=draft)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def get_individual(self, token: str | None, individual_id: str) -> IndividualView:
        return handlers.get_individual(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            individual_id=id_of(individual_id, "individual"),
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def update_individual(self, token: str | None, individual_id: str, patch: IndividualPatch) -> IndividualView:
        return handlers.update_individual(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            individual_id=id_of(individual_id, "individual"),
            patch=patch,
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token", "confirmation.password"))
    def delete_individual(self, token: str | None, individual_id: str, confirmation: PasswordConfirmation) -> None:
        handlers.delete_individual(
            unit_of_work=self.unit_of_work,
            passwords=self.passwords,
            policy=self.account_policy,
            now=self.clock(),
            token=token,
            individual_id=id_of(individual_id, "individual"),
            password=confirmation.password,
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token", "confirmation.password"))
    def delete_account(self, token: str | None, confirmation: PasswordConfirmation) -> None:
        handlers.delete_account(
            unit_of_work=self.unit_of_work,
            passwords=self.passwords,
            policy=self.account_policy,
            now=self.clock(),
            token=token,
            password=confirmation.password,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def export_account(self, token: str | None) -> AccountExport:
        return handlers.export_account(unit_of_work=self.unit_of_work, now=self.clock(), token=token)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def export_individual(self, token: str | None, individual_id: str) -> IndividualExport:
        return handlers.export_individual(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            individual_id=id_of(individual_id, "individual"),
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def request_membership(self, token: str | None, association_id: str) -> MembershipV1:
        return handlers.request_membership(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=id_of(association_id, "association"),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def association_memberships(
        self, token: str | None, association_id: str, query: MembershipQuery
    ) -> AssociationMembershipList:
        return handlers.association_memberships(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            association_id=id_of(association_id, "association"),
            status=query.status,
            limit=MAX_PAGE,
        )

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def decide_membership(self, token: str | None, membership_id: str, decision: MembershipDecision) -> MembershipV1:
        return handlers.decide_membership(
            unit_of_work=self.unit_of_work,
            now=self.clock(),
            token=token,
            membership_id=id_of(membership_id, "membership request"),
            decision=decision.decision,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=("search", "alerts"))  # personal data: those rebuilding from it
    def individuals_after(self, after_id: str | None, limit: int) -> list[VersionedIndividualProfile]:
        """For services rebuilding what they derive from the registry; the gateway never exposes it.
        No contact details: each is the individual as events show them, with their record's version."""
        return handlers.individuals_after(
            unit_of_work=self.unit_of_work,
            after_id=None if after_id is None else id_of(after_id, "individual"),
            limit=max(1, min(limit, MAX_PAGE)),
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=("messaging",))  # personal data: only its rebuilder
    @reads_only
    def memberships_after(self, after_id: str | None, limit: int) -> list[VersionedMembership]:
        """For messaging rebuilding its directory; the gateway never exposes it. Anonymised memberships included."""
        return handlers.memberships_after(
            unit_of_work=self.unit_of_work,
            after_id=None if after_id is None else id_of(after_id, "membership"),
            limit=max(1, min(limit, MAX_PAGE)),
        )
