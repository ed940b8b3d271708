"""Reports and blocks: a recipient reports a message and follows its status; the Cell lists reports and decides
(dismiss, or block the sending association), and blocks or unblocks an association from sending."""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.errors import Forbidden, Invalid, NotFound
from contracts.events import (
    MessageReportedV1,
    ReportDecidedV1,
    SendingBlockedV1,
    SendingUnblockedV1,
    report_aggregate_id,
)
from contracts.messaging import (
    Report,
    ReportDecision,
    ReportList,
    ReportQuery,
    ReportStatusList,
    ReportV1,
    SendingBlock,
    SendingBlockV1,
)
from services.messaging import domain

log = logging.getLogger(__name__)
DECIDED_STATUS = {"dismiss": "dismissed", "block_sender": "sender_blocked"}


def report_message(
    *, unit_of_work: Callable, now: datetime, principal: Principal, message_id: UUID, report: Report
) -> None:
    """A recipient reports a message to the Cell; reporting it again changes nothing."""
    with unit_of_work() as work:
        owners = work.messages.inbox_owners(message_id, domain.parties_of(principal))
        if not owners:
            raise NotFound(f"there is no message with id {message_id} in your inboxes")
        added = work.moderation.add_report(
            message_id=message_id, reporter=sorted(owners)[0], reporter_account_id=principal.account_id,
            reason=report.reason, reported_at=now,
        )  # fmt: skip
        if added is None:
            return
        work.add_event(
            MessageReportedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=report_aggregate_id(added.id), aggregate_version=1,
                report_id=added.id, message_id=message_id, reporter=added.reporter,
                sender=work.messages.message(message_id).sender,
            )
        )  # fmt: skip
    log.info("message %s reported", message_id)


def my_reports(*, unit_of_work: Callable, principal: Principal) -> ReportStatusList:
    """The reports the caller made, each with its status (open until the Cell decides)."""
    with unit_of_work() as work:
        return ReportStatusList(items=work.moderation.reports_of(principal.account_id))


def _cell_only(principal: Principal) -> None:
    if not principal.is_cell_staff:
        raise Forbidden("only the Mizo Diaspora Cell moderates messages")


def list_reports(*, unit_of_work: Callable, principal: Principal, query: ReportQuery) -> ReportList:
    _cell_only(principal)
    with unit_of_work() as work:
        return ReportList(items=work.moderation.reports(status=query.status))


def decide_report(
    *, unit_of_work: Callable, now: datetime, principal: Principal, report_id: int, decision: ReportDecision
) -> ReportV1:
    """Dismiss a report, or block the association that sent the message (as `block_sending` does). A later
    decision replaces an earlier one; unblocking is `block_sending` with `blocked: false`."""
    _cell_only(principal)
    with unit_of_work() as work:
        record = work.moderation.report(report_id)
        if record is None:
            raise NotFound(f"there is no report with id {report_id}")
        if decision.decision == "block_sender":
            sender = work.messages.message(record.message_id).sender
            association_id = domain.association_party_id(sender)
            if association_id is None:
                raise Invalid(
                    "decision: this message was not sent by an association (a person, the Cell or DiasporaHub"
                    " sent it), so there is no association to block; dismiss the report instead"
                )
            block = work.moderation.set_block(association_id, blocked=True, by=principal.account_id, now=now,
                                              reason=decision.reason or f"report {report_id}")  # fmt: skip
            work.add_event(_block_event(block, now))
        record.status, record.decided_at = DECIDED_STATUS[decision.decision], now
        record.decided_by, record.decision_reason = principal.account_id, decision.reason
        record.version += 1
        work.add_event(
            ReportDecidedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=report_aggregate_id(report_id),
                aggregate_version=record.version, report_id=report_id, message_id=record.message_id,
                status=record.status, decided_by=principal.account_id,
            )
        )  # fmt: skip
    log.info("report %s decided: %s", report_id, decision.decision)
    with unit_of_work() as work:
        return work.moderation.report_view(report_id)


def block_sending(
    *, unit_of_work: Callable, now: datetime, principal: Principal, association_id: UUID, block: SendingBlock
) -> SendingBlockV1:
    _cell_only(principal)
    with unit_of_work() as work:
        if association_id not in work.directory.associations([association_id]):
            raise NotFound(f"there is no association with id {association_id}")
        changed = work.moderation.set_block(association_id, blocked=block.blocked, reason=block.reason,
                                            by=principal.account_id, now=now)  # fmt: skip
        if changed is not None:
            work.add_event(_block_event(changed, now))
    log.info("association %s %s sending", association_id, "blocked from" if block.blocked else "allowed")
    return SendingBlockV1(association_id=association_id, blocked=block.blocked, reason=block.reason, changed_at=now)


def _block_event(block, now: datetime) -> SendingBlockedV1 | SendingUnblockedV1:
    event = SendingBlockedV1 if block.blocked else SendingUnblockedV1
    return event(event_id=uuid4(), occurred_at=now, aggregate_id=block.association_id, aggregate_version=block.version,
                 association_id=block.association_id, reason=block.reason, changed_by=block.blocked_by)  # fmt: skip
