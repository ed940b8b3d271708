"""Which deliveries a message gets besides its inbox copies: per association e-mail (at once, or in its digest) and
webhook as its settings say; e-mail for members who chose it; the Cell's duty mailbox when one is configured.

A broadcast or notification plans its deliveries in its own transaction (all or none with its inbox copies). A
conversation's message is committed with its inbox copies only, and the delivery sender plans its deliveries soon
after (`plan_posted_messages`), many messages at once: a post costs less, and its e-mails wait for the sender's next
round anyway. Either way a message's deliveries are written in one transaction, once.
"""

from collections.abc import Callable
from uuid import UUID

from services.messaging import domain
from services.messaging.domain import Channels, Policy
from services.messaging.time_zones import main_time_zone


def _association_channels(work, association_ids: list[UUID], directory: dict) -> dict[str, Channels]:
    """Associations: their settings, else e-mail at once to their public address; digests at 07:00 in the main
    time zone of their country unless they chose another hour or zone."""
    stored = work.messages.settings(association_ids)
    channels = {}
    for association_id in association_ids:
        record = stored.get(association_id)
        entry = directory.get(association_id)
        fallback = entry.email if entry is not None else None
        zone = main_time_zone(entry.country if entry is not None else None)
        channels[domain.association_party(association_id)] = (
            Channels(email=fallback, time_zone=zone)
            if record is None
            else Channels(
                email_mode=record.email_mode,
                email=record.email or fallback,
                webhook_url=record.webhook_url,
                digest_hour=record.digest_hour,
                time_zone=record.time_zone or zone,
            )
        )
    return channels


def _member_channels(work, individual_ids: list[UUID], country: str | None) -> dict[str, Channels]:
    """Members: e-mail to their account's address only if they chose it; their digest's default zone is the main
    one of the country of the association that writes to its members."""
    return {
        domain.individual_party(individual_id): Channels(
            email_mode=record.email_mode,
            email=record.email,
            digest_hour=record.digest_hour,
            time_zone=record.time_zone or main_time_zone(country),
        )
        for individual_id, record in work.messages.member_settings(individual_ids).items()
    }


def channels_of(
    work, recipients, *, policy: Policy, directory: dict | None = None, members_country: str | None = None
) -> dict[str, Channels]:
    """How each recipient is reached besides its inbox; those reached by their inbox only are left out."""
    association_ids = [party_id for party_id in map(domain.association_party_id, recipients) if party_id]
    individual_ids = [party_id for party_id in map(domain.individual_party_id, recipients) if party_id]
    if directory is None:
        directory = work.directory.associations(association_ids)
    channels = _association_channels(work, association_ids, directory)
    if individual_ids:
        channels |= _member_channels(work, individual_ids, members_country)
    if domain.CELL_PARTY in recipients:
        channels[domain.CELL_PARTY] = Channels(email=policy.cell_email)
    return channels


def planned_rows(message_id: UUID, recipients, channels: dict[str, Channels], *, now, policy: Policy, urgent: bool,
                 reference: str | None = None) -> list[dict]:  # fmt: skip
    return [
        row | {"message_id": message_id, "reference": reference}
        for party in recipients
        if party in channels
        for row in domain.planned_deliveries(party, channels[party], now=now, urgent=urgent, policy=policy)
    ]


def deliver(
    work, *, message_id: UUID, recipients: list[str], now, policy: Policy, urgent: bool, reference=None,
    directory=None, members_country: str | None = None,
):  # fmt: skip
    """Inbox copies and deliveries at once, in the caller's transaction (broadcasts and notifications)."""
    work.messages.deliver_to_inboxes(message_id, recipients, now)
    channels = channels_of(work, recipients, policy=policy, directory=directory, members_country=members_country)
    work.deliveries.queue(planned_rows(message_id, recipients, channels, now=now, policy=policy, urgent=urgent,
                                       reference=reference))  # fmt: skip


def plan_posted_messages(*, unit_of_work: Callable, policy: Policy, limit: int) -> int:
    """The deliveries of up to `limit` conversation messages not yet planned, as of when each was posted; the number
    of messages planned. Claimed in the same transaction (SKIP LOCKED on PostgreSQL): once each, by one sender."""
    with unit_of_work() as work:
        claimed = work.posting.claim_unplanned(limit)
        if not claimed:
            return 0
        recipients = work.posting.inbox_owners_of(list(claimed))
        channels = channels_of(work, {party for parties in recipients.values() for party in parties}, policy=policy)
        work.deliveries.queue([
            row
            for message_id, posted_at in claimed.items()
            for row in planned_rows(message_id, recipients.get(message_id, []), channels, now=posted_at,
                                    policy=policy, urgent=False)  # fmt: skip
        ])  # fmt: skip
        return len(claimed)
