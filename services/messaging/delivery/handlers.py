"""Notification settings, the deliveries an association's admins see, and sending due deliveries.

Sending is three steps, none holding a transaction over the network: claim due rows (leased to this sender, the
attempt counted), send them outside any transaction, then settle each (sent, or failed with the next attempt or for
good).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.errors import Forbidden, NotFound
from contracts.events import DeliveryFailedV1, DeliverySentV1
from contracts.messaging import (
    DeliveryList,
    DeliveryQuery,
    MemberNotificationSettings,
    MemberNotificationSettingsV1,
    NotificationSettings,
    NotificationSettingsV1,
)
from services.messaging import domain
from services.messaging.time_zones import main_time_zone

log = logging.getLogger(__name__)
CELL_NAME = "Mizo Diaspora Cell"


def _may_manage(principal: Principal, association_id: UUID) -> None:
    if not (principal.is_cell_staff or domain.administers(principal, association_id)):
        raise Forbidden(f"only the admins of association {association_id} and the Cell see its notifications")


def _view(association_id: UUID, record, entry, secret: str | None = None) -> NotificationSettingsV1:
    """What is in effect: unset, e-mails go at once to the public address; a digest at 07:00 in the main time
    zone of the association's country."""
    zone = main_time_zone(entry.country)
    if record is None:
        return NotificationSettingsV1(association_id=association_id, email_mode="immediate", email=entry.email,
                                      language="en", webhook_url=None, time_zone=zone)  # fmt: skip
    return NotificationSettingsV1(
        association_id=association_id, email_mode=record.email_mode, email=record.email or entry.email,
        language=record.language, webhook_url=record.webhook_url, webhook_secret=secret,
        digest_hour=record.digest_hour, time_zone=record.time_zone or zone,
    )  # fmt: skip


def get_settings(*, unit_of_work: Callable, principal: Principal, association_id: UUID) -> NotificationSettingsV1:
    _may_manage(principal, association_id)
    with unit_of_work() as work:
        entry = work.directory.associations([association_id]).get(association_id)
        if entry is None:
            raise NotFound(f"there is no association with id {association_id}")
        return _view(association_id, work.messages.settings([association_id]).get(association_id), entry)


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
            digest_hour=settings.digest_hour, time_zone=settings.time_zone,
        )  # fmt: skip
    with unit_of_work() as work:
        record = work.messages.settings([association_id]).get(association_id)
        return _view(association_id, record, entry, shown)


def _profile_of(principal: Principal) -> UUID:
    if principal.individual_id is None:
        raise NotFound("you have no profile, so no associations write to you as a member; create a profile first")
    return principal.individual_id


def _member_view(individual_id: UUID, record, principal: Principal) -> MemberNotificationSettingsV1:
    if record is None:
        return MemberNotificationSettingsV1(individual_id=individual_id, email_mode="off", email=principal.email,
                                            language="en")  # fmt: skip
    return MemberNotificationSettingsV1(
        individual_id=individual_id, email_mode=record.email_mode, email=record.email, language=record.language,
        digest_hour=record.digest_hour, time_zone=record.time_zone,
    )  # fmt: skip


def get_member_settings(*, unit_of_work: Callable, principal: Principal) -> MemberNotificationSettingsV1:
    """How the caller hears of their associations' broadcasts to members (unset: the inbox only)."""
    individual_id = _profile_of(principal)
    with unit_of_work() as work:
        return _member_view(individual_id, work.messages.member_settings([individual_id]).get(individual_id), principal)


def put_member_settings(
    *, unit_of_work: Callable, now: datetime, principal: Principal, settings: MemberNotificationSettings,
    new_key: Callable[[], str],
) -> MemberNotificationSettingsV1:  # fmt: skip
    """E-mails go to the account's address as it is now (saving again takes a changed address)."""
    individual_id = _profile_of(principal)
    with unit_of_work() as work:
        stored = work.messages.member_settings([individual_id]).get(individual_id)
        work.messages.save_member_settings(
            individual_id=individual_id, account_id=principal.account_id, name=principal.display_name,
            email=principal.email, email_mode=settings.email_mode, language=settings.language,
            digest_hour=settings.digest_hour, time_zone=settings.time_zone,
            unsubscribe_key=stored.unsubscribe_key if stored is not None else new_key(), updated_at=now,
        )  # fmt: skip
    with unit_of_work() as work:
        return _member_view(individual_id, work.messages.member_settings([individual_id]).get(individual_id), principal)


def unsubscribe(*, unit_of_work: Callable, now: datetime, key: str) -> None:
    """The one-click link of an e-mail: e-mails stop for the association (or member) whose key it is."""
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
    recipient_name: str
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
    digest: bool = False


@dataclass(frozen=True)
class Retrying:
    base: timedelta
    cap: timedelta
    lease: timedelta
    batch: int


@dataclass(frozen=True)
class Contact:
    """Where and how one recipient is written to."""

    name: str
    email: str | None
    language: str = "en"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    unsubscribe_key: str | None = None


def _contacts(
    work, recipients: set[str], *, now: datetime, new_key: Callable[[], str], cell_email: str | None
) -> dict[str, Contact]:
    """Associations (each gets its settings row, and so its unsubscribe key, the first time it is written to),
    members who chose e-mails, and the Cell's duty mailbox (configured, so it has no unsubscribe link)."""
    ids = [i for i in map(domain.association_party_id, recipients) if i is not None]
    directory = work.directory.associations(ids)
    settings = work.messages.settings(ids)
    work.messages.add_settings(
        [{"association_id": i, "email_mode": "immediate", "email": None, "language": "en", "webhook_url": None,
          "webhook_secret": None, "unsubscribe_key": new_key(), "updated_at": now}
         for i in ids if i not in settings and i in directory]
    )  # fmt: skip
    settings = work.messages.settings(ids)
    contacts = {}
    for association_id in ids:
        entry, stored = directory.get(association_id), settings.get(association_id)
        contacts[domain.association_party(association_id)] = Contact(
            name=entry.name if entry else "",
            email=(stored.email if stored else None) or (entry.email if entry else None),
            language=stored.language if stored else "en",
            webhook_url=stored.webhook_url if stored else None,
            webhook_secret=stored.webhook_secret if stored else None,
            unsubscribe_key=stored.unsubscribe_key if stored else None,
        )
    members = work.messages.member_settings([i for i in map(domain.individual_party_id, recipients) if i is not None])
    for individual_id, record in members.items():
        contacts[domain.individual_party(individual_id)] = Contact(
            name=record.name, email=record.email, language=record.language, unsubscribe_key=record.unsubscribe_key
        )
    if domain.CELL_PARTY in recipients:
        contacts[domain.CELL_PARTY] = Contact(name=CELL_NAME, email=cell_email)
    return contacts


def claim(
    *, unit_of_work: Callable, now: datetime, retrying: Retrying, limit: int, new_key: Callable[[], str],
    cell_email: str | None = None,
) -> list[Outgoing]:  # fmt: skip
    """Up to `limit` due deliveries, leased to this sender for `retrying.lease`, with what sending them needs."""
    with unit_of_work() as work:
        claimed = work.deliveries.claim_due(now=now, lease=retrying.lease, limit=limit)
        if not claimed:
            return []
        contacts = _contacts(work, {row.recipient for row in claimed}, now=now, new_key=new_key,
                             cell_email=cell_email)  # fmt: skip
        messages = work.messages.messages({row.message_id for row in claimed})
        outgoing = []
        for row in claimed:
            contact, message = contacts.get(row.recipient, Contact(name="", email=None)), messages[row.message_id]
            outgoing.append(
                Outgoing(
                    delivery_id=row.id, lease_token=row.lease_token, channel=row.channel, recipient=row.recipient,
                    recipient_name=contact.name, language=contact.language, email=contact.email,
                    webhook_url=contact.webhook_url, webhook_secret=contact.webhook_secret,
                    unsubscribe_key=contact.unsubscribe_key, message_id=message.id,
                    kind=message.kind, subject=message.subject, sender_name=message.sender_name, body=message.body,
                    html=message.html, posted_at=message.posted_at, reference=row.reference, digest=row.digest,
                )
            )  # fmt: skip
        return outgoing


def settle(
    *, unit_of_work: Callable, now: datetime, retrying: Retrying, results: list[tuple[Outgoing, str | None]]
) -> tuple[int, int]:
    """`results`: each claimed delivery with None (sent) or the error. Returns (sent, failed for good)."""
    sent_ids, failed = [], 0
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
                sent_ids.append(record.id)
                if outgoing.reference is not None:  # a notification another service asked for: it hears back
                    work.add_event(
                        DeliverySentV1(**common, aggregate_version=record.attempts, attempts=record.attempts)
                    )
                continue
            when = domain.next_attempt(
                attempts=record.attempts, now=now, base=retrying.base, cap=retrying.cap, give_up_at=record.give_up_at
            )
            work.deliveries.mark_failed_attempt(record.id, error, when)
            if when is None:
                failed += 1
                log.warning("delivery %s failed for good after %d attempts: %s", record.id, record.attempts, error)
                work.add_event(
                    DeliveryFailedV1(**common, aggregate_version=record.attempts, attempts=record.attempts, error=error)
                )
        work.deliveries.mark_sent(sent_ids, now)
    return len(sent_ids), failed
