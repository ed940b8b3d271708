"""The registry's individual and membership RPCs."""

from uuid import UUID

from pydantic import TypeAdapter

from contracts.errors import EXPECTED_ERRORS, NotFound
from contracts.individuals import IndividualDraft, IndividualPatch, MembershipDecision
from contracts.validation import parse
from servicekit.rpc import rpc
from services.registry.individuals import handlers

_JSON = TypeAdapter(object)


def id_of(value: str, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"there is no {kind} with id {value}") from None


def as_json(value: object) -> object:
    return _JSON.dump_python(value, mode="json")


class IndividualEntrypoints:
    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def register_individual(self, token: str | None, draft: dict) -> dict:
        view = handlers.register_individual(
            unit_of_work=self.unit_of_work, token=token, draft=parse(IndividualDraft, draft)
        )
        return as_json(view)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def get_individual(self, token: str | None, individual_id: str) -> dict:
        view = handlers.get_individual(
            unit_of_work=self.unit_of_work, token=token, individual_id=id_of(individual_id, "individual")
        )
        return as_json(view)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def update_individual(self, token: str | None, individual_id: str, patch: dict) -> dict:
        view = handlers.update_individual(
            unit_of_work=self.unit_of_work,
            token=token,
            individual_id=id_of(individual_id, "individual"),
            patch=parse(IndividualPatch, patch),
        )
        return as_json(view)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def delete_individual(self, token: str | None, individual_id: str) -> None:
        handlers.delete_individual(
            unit_of_work=self.unit_of_work, token=token, individual_id=id_of(individual_id, "individual")
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def export_individual(self, token: str | None, individual_id: str) -> dict:
        exported = handlers.export_individual(
            unit_of_work=self.unit_of_work, token=token, individual_id=id_of(individual_id, "individual")
        )
        return as_json(exported)

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def request_membership(self, token: str | None, association_id: str) -> dict:
        return handlers.request_membership(
            unit_of_work=self.unit_of_work, token=token, association_id=id_of(association_id, "association")
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS, sensitive_arguments=("token",))
    def decide_membership(self, token: str | None, membership_id: str, decision: dict) -> dict:
        return handlers.decide_membership(
            unit_of_work=self.unit_of_work,
            token=token,
            membership_id=id_of(membership_id, "membership request"),
            decision=parse(MembershipDecision, decision).decision,
        )

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def individuals_after(self, after_id: str | None, limit: int) -> list[dict]:
        """For services rebuilding what they derive from the registry; the gateway never exposes it.

        Each is `{"individual": IndividualProfileV1, "version": the record's version}`: no contact details.
        """
        found = handlers.individuals_after(
            unit_of_work=self.unit_of_work,
            after_id=None if after_id is None else id_of(after_id, "individual"),
            limit=max(1, min(int(limit), 1000)),
        )
        return [{"individual": profile.model_dump(mode="json"), "version": version} for profile, version in found]
