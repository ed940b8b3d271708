"""The steps of a case: acknowledge, decline, claim (or the Cell's take-over and reassignment), updates, resolve,
refer, cancel (or the Cell's false alarm) and the Cell's release of a request raised without an account.

Each step reads the case, asks the domain whether the caller may take it now, and writes it with a conditional
UPDATE (repository.change): when two take a step at once, the second finds the case changed and gets 409.
"""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from contracts.alerts import (
    AssociationChoice,
    Cancellation,
    CaseUpdate,
    ClaimRequest,
    Decline,
    HelpRequestCancelledV1,
    HelpRequestClaimedV1,
    HelpRequestReferredV1,
    HelpRequestReleasedV1,
    HelpRequestResolvedV1,
    HelpRequestUpdatedV1,
    HelpRequestV1,
    Referral,
    Resolution,
)
from contracts.errors import Conflict, Forbidden
from services.alerts.help_requests import domain
from services.alerts.help_requests.domain import Caller
from services.alerts.help_requests.handlers import actor_of, present
from services.alerts.protection import Sealer


class Step:
    """One step on one case, in one unit of work: `open` checks who and when; `write` changes it or raises 409."""

    def __init__(self, work, *, caller: Caller, help_request_id: UUID, action: str):
        self.work = work
        self.caller = caller
        record = work.help_requests.get(help_request_id)
        case = None if record is None else work.help_requests.case(record)
        self.roles = domain.require_visible(caller, case, help_request_id)
        self.record, self.case = record, case
        self.status = domain.next_status(case, action, self.roles)

    def write(self, **values) -> int:
        version = self.work.help_requests.change(self.case, **values)
        if version is None:
            raise Conflict(f"Help request {self.case.reference} changed meanwhile; read it again.")
        self.record = self.work.help_requests.get(self.case.id)
        return version

    def note(self, kind: str, actor: str, *, at: datetime, note: str | None = None, sealer: Sealer) -> None:
        self.work.help_requests.add_step(self.case.id, at=at, kind=kind, actor=actor, note=sealer.seal(note))

    def event(self, event_type, version: int, now: datetime, **fields):
        self.work.add_event(
            event_type(
                event_id=uuid4(), occurred_at=now, aggregate_id=self.case.id, aggregate_version=version,
                reference=self.case.reference, status=self.record.status, **fields,
            )
        )  # fmt: skip


def _answer(step: Step, *, sealer: Sealer, now: datetime) -> HelpRequestV1:
    return present(step.work, step.record, caller=step.caller, sealer=sealer, now=now)


def acknowledge(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID,
    choice: AssociationChoice,
) -> HelpRequestV1:  # fmt: skip
    """A notified association says it has seen the request."""
    with unit_of_work() as work:
        step = Step(work, caller=caller, help_request_id=help_request_id, action="acknowledge")
        association_id = domain.acting_association(caller, step.case, choice.association_id)
        if work.help_requests.acknowledge(step.case.id, association_id, now):
            step.note("acknowledged", domain.association_party(association_id), at=now, sealer=sealer)
        return _answer(step, sealer=sealer, now=now)


def decline(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID, decline: Decline
) -> HelpRequestV1:
    with unit_of_work() as work:
        step = Step(work, caller=caller, help_request_id=help_request_id, action="decline")
        association_id = domain.acting_association(caller, step.case, decline.association_id)
        work.help_requests.decline(step.case.id, association_id, now, decline.reason)
        step.note("declined", domain.association_party(association_id), at=now, note=decline.reason, sealer=sealer)
        if all(told.declined_at is not None for told in work.help_requests.notifications(step.case.id)):
            # Everyone told said no: the next ring need not wait for the deadline (the escalation timer takes it).
            work.help_requests.due_now(step.case.id, now)
        return _answer(step, sealer=sealer, now=now)


def claim(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID,
    claim: ClaimRequest,
) -> HelpRequestV1:  # fmt: skip
    """Exactly one association (or the Cell) has the case; the Cell may take it over or give it to another."""
    with unit_of_work() as work:
        record = work.help_requests.get(help_request_id)
        taken = record is not None and record.status in ("claimed", "in_progress")
        action = "reassign" if caller.is_cell and taken else "claim"
        step = Step(work, caller=caller, help_request_id=help_request_id, action=action)
        by = domain.claimant(caller, step.case, claim.association_id)
        version = step.write(status=step.status, claimed_by=by, due_at=None)
        step.note("reassigned" if action == "reassign" else "claimed", by, at=now, sealer=sealer)
        step.event(HelpRequestClaimedV1, version, now, claimed_by=by)
        return _answer(step, sealer=sealer, now=now)


def _by_the_holder(
    unit_of_work: Callable, *, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID, action: str,
    kind: str, note: str, event_type, closes: bool = False, **event_fields,
) -> HelpRequestV1:  # fmt: skip
    """A step of whoever holds the case (the claiming association or the Cell): written, noted, announced."""
    with unit_of_work() as work:
        step = Step(work, caller=caller, help_request_id=help_request_id, action=action)
        by = actor_of(caller, step.roles, _claimer_id(step))
        version = step.write(status=step.status, **({"closed_at": now, "due_at": None} if closes else {}))
        step.note(kind, by, at=now, note=note, sealer=sealer)
        step.event(event_type, version, now, **({"by": by} if "by" in event_type.model_fields else {}), **event_fields)
        return _answer(step, sealer=sealer, now=now)


def post_update(*, update: CaseUpdate, **step) -> HelpRequestV1:
    return _by_the_holder(**step, action="update", kind="update", note=update.body, event_type=HelpRequestUpdatedV1)


def resolve(*, resolution: Resolution, **step) -> HelpRequestV1:
    return _by_the_holder(**step, action="resolve", kind="resolved", note=resolution.summary, closes=True,
                          event_type=HelpRequestResolvedV1)  # fmt: skip


def refer(*, referral: Referral, **step) -> HelpRequestV1:
    """Handed to an Indian mission, MADAD or another body, with their reference."""
    their_reference = f" (their reference: {referral.reference})" if referral.reference else ""
    note = f"Referred to {referral.to}{their_reference}. {referral.body}".strip()
    return _by_the_holder(**step, action="refer", kind="referred", note=note, closes=True,
                          event_type=HelpRequestReferredV1, to=referral.to)  # fmt: skip


def cancel(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID,
    cancellation: Cancellation,
) -> HelpRequestV1:  # fmt: skip
    """The requester withdraws it, or the Cell closes it (as a false alarm, if it says so)."""
    with unit_of_work() as work:
        step = Step(work, caller=caller, help_request_id=help_request_id, action="cancel")
        if cancellation.false_alarm and "cell" not in step.roles:
            raise Forbidden("Only the Mizo Diaspora Cell can mark a help request a false alarm.")
        version = step.write(status=step.status, closed_at=now, due_at=None)
        kind = "false_alarm" if cancellation.false_alarm else "cancelled"
        step.note(kind, actor_of(caller, step.roles), at=now, note=cancellation.reason, sealer=sealer)
        step.event(HelpRequestCancelledV1, version, now, false_alarm=cancellation.false_alarm)
        return _answer(step, sealer=sealer, now=now)


def release(
    *, unit_of_work: Callable, sealer: Sealer, now: datetime, caller: Caller, help_request_id: UUID
) -> HelpRequestV1:
    """The Cell lets a request raised without an account go to the associations near it (matching.advance)."""
    with unit_of_work() as work:
        step = Step(work, caller=caller, help_request_id=help_request_id, action="release")
        version = step.write(held_for_cell=False, due_at=now)
        step.note("released", actor_of(caller, step.roles), at=now, sealer=sealer)
        step.event(HelpRequestReleasedV1, version, now)
        return _answer(step, sealer=sealer, now=now)


def _claimer_id(step: Step) -> UUID | None:
    claimed_by = step.record.claimed_by or ""
    kind, _, value = claimed_by.partition(":")
    return UUID(value) if kind == "association" and "claimer" in step.roles and "cell" not in step.roles else None
