"""Notification settings, the deliveries an association's admins see, and sending due deliveries.

Sending is three steps, none holding a transaction over the network: claim due rows (leased to this sender),
send them outside any transaction, then settle each (sent, or failed with the next attempt or for good).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.errors import Forbidden, NotFound
from contracts.events import DeliveryFailedV1, DeliverySentV1
from contracts.messaging import DeliveryList, DeliveryQuery, NotificationSettings, NotificationSettingsV1
from services.messaging import domain

log = logging.getLogger(__name__)


def _may_manage(principal: Principal, association_id: UUID) -> None:
    if not (principal.is_cell_staff or domain.administers(principal, association_id)):
        raise Forbidden(f"only the admins of association {association_id} and the Cell see its notifications")


def _view(association_id: UUID, record, fallback_email: str | None, secret: str | None = None):
    if record is None:
        return NotificationSettingsV1(association_id=association_id, email_mode="immediate", email=fallback_email,
                                      language="en", webhook_url=None)  # fmt: skip
    return NotificationSettingsV1(
        association_id=association_id, email_mode=record.email_mode, email=record.email or fallback_email,
        language=record.language, webhook_url=record.webhook_url, webhook_secret=secret,
    )  # fmt: skip


def get_settings(*, unit_of_work: Callable, principal: Principal, association_id: UUID) -> NotificationSettingsV1:
    _may_manage(principal, association_id)
    with unit_of_work() as work:
        entry = work.directory.associations([association_id]).get(association_id)
        if entry is None:
            raise NotFound(f"there is no association with id {association_id}")
        return _view(association_id, work.messages.settings([association_id]).get(association_id), entry.email)


def put_settings(
    *, unit_of_work: Callable, now: datetime, principal: Principal, association_id: UUID,
    settings: NotificationSettings, check_webhook_url: Callable[[str], None], new_secret: Callable[[], str],
    new_key: Callable[[], str],
) -> NotificationSettingsV1:  # fmt: skip
    """A new webhook URL gets a new secret, shown in this answer only."""
    _may_manage(principal, association_id)
    url = None if settings.webhook_url is None else str(settings.webhook_url)
    if url is not None:
        check_webhook_url(url)
    with unit_of_work() as work:
        entry = work.directory.associations([association_id]).get(association_id)
        if entry is None:
            raise NotFound(f"there is no association with id {association_id}")
        stored = work.messages.settings([association_id]).get(association_id)
        secret = stored.webhook_secret if stored is not None and stored.webhook_url == url else None
        shown = None
        if url is not None and secret is None:
            secret = shown = new_secret()
        work.messages.save_settings(
            association_id=association_id, email_mode=settings.email_mode,
            email=None if settings.email is None else str(settings.email), language=settings.language,
            webhook_url=url, webhook_secret=secret if url else None,
            unsubscribe_key=stored.unsubscribe_key if stored is not None else new_key(), updated_at=now,
        )  # fmt: skip
    with unit_of_work() as work:
        record = work.messages.settings([association_id]).get(association_id)
        return _view(association_id, record, entry.email, shown)


def unsubscribe(*, unit_of_work: Callable, now: datetime, key: str) -> None:
    """The one-click link of an e-mail: e-mails stop for the association whose key it is."""
    with unit_of_work() as work:
        record = work.messages.settings_by_unsubscribe_key(key)
        if record is None:
            raise NotFound("this unsubscribe link is not known (or was replaced)")
        record.email_mode, record.updated_at = "off", now


def list_deliveries(
    *, unit_of_work: Callable, principal: Principal, association_id: UUID, query: DeliveryQuery
) -> DeliveryList:
    _may_manage(principal, association_id)
    with unit_of_work() as work:
        return DeliveryList(items=work.deliveries.of_recipient(domain.association_party(association_id), query.state))


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery with everything its transport needs."""

    delivery_id: UUID
    lease_token: str
    channel: str
    recipient: str
    association_name: str
    email: str | None
    language: str
    webhook_url: str | None
    webhook_secret: str | None
    unsubscribe_key: str | None
    message_id: UUID
    kind: str
    subject: str
    sender_name: str
    body: str
    html: str
    posted_at: datetime
    reference: str | None
    attempts: int
    give_up_at: datetime
    digest: bool = False


@dataclass(frozen=True)
class Retrying:
    base: timedelta
    cap: timedelta
    lease: timedelta
    batch: int


def claim(*, unit_of_work: Callable, now: datetime, retrying: Retrying, new_key: Callable[[], str]) -> list[Outgoing]:
    with unit_of_work() as work:
        claimed = work.deliveries.claim_due(now=now, lease=retrying.lease, limit=retrying.batch)
        if not claimed:
            return []
        ids = list({domain.association_party_id(row.recipient) for row in claimed})
        directory = work.directory.associations(ids)
        settings = work.messages.settings(ids)
        missing = [i for i in ids if i not in settings and i in directory]
        work.messages.add_settings(
            [{"association_id": i, "email_mode": "immediate", "email": None, "language": "en", "webhook_url": None,
              "webhook_secret": None, "unsubscribe_key": new_key(), "updated_at": now} for i in missing]
        )  # fmt: skip
        settings = work.messages.settings(ids)
        messages = {row.message_id: work.messages.message(row.message_id) for row in claimed}
        outgoing = []
        for row in claimed:
            association_id = domain.association_party_id(row.recipient)
            entry, stored, message = (
                directory.get(association_id),
                settings.get(association_id),
                messages[row.message_id],
            )
            outgoing.append(
                Outgoing(
                    delivery_id=row.id, lease_token=row.lease_token, channel=row.channel, recipient=row.recipient,
                    association_name=entry.name if entry else "", language=stored.language if stored else "en",
                    email=(stored.email if stored and stored.email else None) or (entry.email if entry else None),
                    webhook_url=stored.webhook_url if stored else None,
                    webhook_secret=stored.webhook_secret if stored else None,
                    unsubscribe_key=stored.unsubscribe_key if stored else None, message_id=message.id,
                    kind=message.kind, subject=message.subject, sender_name=message.sender_name, body=message.body,
                    html=message.html, posted_at=message.posted_at, reference=row.reference, attempts=row.attempts,
                    give_up_at=row.give_up_at, digest=row.digest,
                )
            )  # fmt: skip
        return outgoing


def settle(
    *, unit_of_work: Callable, now: datetime, retrying: Retrying, results: list[tuple[Outgoing, str | None]]
) -> tuple[int, int]:
    """`results`: each claimed delivery with None (sent) or the error. Returns (sent, failed for good)."""
    sent = failed = 0
    with unit_of_work() as work:
        leased = work.deliveries.leased({outgoing.delivery_id: outgoing.lease_token for outgoing, _ in results})
        for outgoing, error in results:
            record = leased.get(outgoing.delivery_id)
            if record is None:
                continue  # the lease ran out meanwhile and another sender has the row: it settles it
            common = {"event_id": uuid4(), "occurred_at": now, "aggregate_id": outgoing.delivery_id,
                      "message_id": outgoing.message_id, "recipient": outgoing.recipient,
                      "channel": outgoing.channel, "reference": outgoing.reference}  # fmt: skip
            if error is None:
                work.deliveries.mark_sent(record, now)
                sent += 1
                if outgoing.reference is not None:  # a notification another service asked for: it hears back
                    work.add_event(
                        DeliverySentV1(**common, aggregate_version=record.attempts, attempts=record.attempts)
                    )
                continue
            when = domain.next_attempt(
                attempts=outgoing.attempts + 1, now=now, base=retrying.base, cap=retrying.cap,
                give_up_at=outgoing.give_up_at,
            )  # fmt: skip
            work.deliveries.mark_failed_attempt(record, error, when)
            if record.state == "failed":
                failed += 1
                log.warning("delivery %s failed for good after %d attempts: %s", record.id, record.attempts, error)
                work.add_event(
                    DeliveryFailedV1(**common, aggregate_version=record.attempts, attempts=record.attempts, error=error)
                )
    return sent, failed
