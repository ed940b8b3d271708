"""Reports of messages with the Cell's decisions, and the associations the Cell stopped from sending."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.messaging import ReportStatusV1, ReportV1
from services.messaging.db import MessageRecord, ReportRecord, SendingBlockRecord
from services.messaging.domain import party_of


class ModerationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_report(self, **fields) -> ReportRecord | None:
        """The new report, numbered; None for a second report of one message by one recipient (it changes nothing)."""
        record = ReportRecord(version=1, **fields)
        exists = self.session.execute(
            select(ReportRecord.id).where(
                ReportRecord.message_id == record.message_id, ReportRecord.reporter == record.reporter
            )
        ).first()
        if exists is not None:
            return None
        self.session.add(record)
        self.session.flush()
        return record

    def report(self, report_id: int) -> ReportRecord | None:
        return self.session.get(ReportRecord, report_id, with_for_update=True)

    def _reports(self, *conditions, limit: int = 200):
        return self.session.execute(
            select(ReportRecord, MessageRecord)
            .join(MessageRecord, MessageRecord.id == ReportRecord.message_id)
            .where(*conditions)
            .order_by(ReportRecord.reported_at.desc(), ReportRecord.id.desc())
            .limit(limit)
        )

    def reports(self, *, status: str | None) -> list[ReportV1]:
        return [
            _report_of(report, message)
            for report, message in self._reports(*([ReportRecord.status == status] if status else []))
        ]

    def report_view(self, report_id: int) -> ReportV1:
        [(report, message)] = self._reports(ReportRecord.id == report_id)
        return _report_of(report, message)

    def reports_of(self, account_id: UUID) -> list[ReportStatusV1]:
        return [
            ReportStatusV1(
                id=report.id,
                message_id=message.id,
                subject=message.subject,
                reason=report.reason,
                reported_at=report.reported_at,
                status=report.status,
                decided_at=report.decided_at,
            )  # fmt: skip
            for report, message in self._reports(ReportRecord.reporter_account_id == account_id)
        ]

    def is_blocked(self, association_id: UUID) -> bool:
        return bool(
            self.session.scalar(
                select(SendingBlockRecord.blocked).where(SendingBlockRecord.association_id == association_id)
            )
        )

    def set_block(
        self, association_id: UUID, *, blocked: bool, reason: str, by: UUID, now: datetime
    ) -> SendingBlockRecord | None:
        """The block as changed, its version counted; None when letting send an association that is not blocked."""
        record = self.session.get(SendingBlockRecord, association_id, with_for_update=True)
        if not blocked and (record is None or not record.blocked):
            return None
        if record is None:
            record = SendingBlockRecord(association_id=association_id, version=0)
            self.session.add(record)
        record.blocked, record.reason, record.blocked_by, record.blocked_at = blocked, reason, by, now
        record.version += 1
        return record


def _report_of(report: ReportRecord, message: MessageRecord) -> ReportV1:
    return ReportV1(
        id=report.id, message_id=message.id, subject=message.subject,
        sender=party_of(message.sender, message.sender_name), reporter=party_of(report.reporter),
        reason=report.reason, reported_at=report.reported_at, status=report.status, decided_at=report.decided_at,
        decision_reason=report.decision_reason,
    )  # fmt: skip
