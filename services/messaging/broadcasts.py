"""Broadcasts (the Cell, federations, associations to their members), notifications for other services, and the
notice a sender gets when a delivery failed for good.

Every recipient's inbox copy and every delivery row are written in the transaction of the broadcast: a crash
leaves all of them or none, and the delivery senders pick them up after the answer.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4, uuid5

from contracts.accounts import Principal
from contracts.errors import Invalid, NotFound
from contracts.events import BroadcastSentV1, DeliveryFailedV1
from contracts.messaging import BroadcastDraft, BroadcastV1, ChannelCounts, NotificationReceipt, NotifyRequest
from services.messaging import domain
from services.messaging.domain import Policy
from services.messaging.handlers import name_of_sender, not_blocked
from services.messaging.idempotency import earlier_result
from services.messaging.planning import deliver

log = logging.getLogger(__name__)
ONCE_KEYS = UUID("5b1f5a52-3f0e-4c39-9a55-4a0c8f4f7d21")


def _audience(work, draft: BroadcastDraft) -> tuple[list[str], dict, str | None]:
    """The recipients' parties, the directory entries of those that are associations, and for members the country
    of their association (their digests' default time zone)."""
    audience = draft.audience
    if audience.members_of is not None:
        home = work.directory.associations([audience.members_of]).get(audience.members_of)
        members = work.directory.members_of(audience.members_of)
        return [domain.individual_party(i) for i in members], {}, home.country if home is not None else None
    if audience.branches_of is not None:
        entries = work.directory.branches_of(audience.branches_of)
    else:
        entries = [entry for entry in work.directory.verified() if domain.matches(audience, entry)]
    return [domain.association_party(entry.id) for entry in entries], {entry.id: entry for entry in entries}, None


def broadcast(
    *, unit_of_work: Callable, now: datetime, principal: Principal, draft: BroadcastDraft, render, policy: Policy,
    idempotency_key: str | None = None,
) -> BroadcastV1:  # fmt: skip
    """A retry with the `idempotency_key` of a broadcast made already answers with that broadcast."""
    sender = domain.broadcast_sender(principal, draft.from_association_id, draft.audience)
    broadcast_id = uuid4()
    with unit_of_work() as work:
        earlier = earlier_result(work, principal=principal, key=idempotency_key, new_id=broadcast_id, now=now,
                                 operation="broadcast", draft=draft)  # fmt: skip
        if earlier is None:
            recipients = _write(work, now=now, principal=principal, sender=sender, draft=draft, render=render,
                                policy=policy, broadcast_id=broadcast_id)  # fmt: skip
    if earlier is None:
        log.info("broadcast %s to %d recipients", broadcast_id, recipients)
    return get_broadcast(unit_of_work=unit_of_work, principal=principal, broadcast_id=earlier or broadcast_id)


def _write(work, *, now, principal: Principal, sender: str, draft: BroadcastDraft, render, policy: Policy,
           broadcast_id: UUID) -> int:  # fmt: skip
    not_blocked(work, sender)
    policy.broadcasts.check(
        work.messages.posted_since(
            principal.account_id, now - policy.broadcasts.window, broadcasts=True, at_most=policy.broadcasts.limit
        )
    )
    recipients, entries, members_country = _audience(work, draft)
    if not recipients:
        raise Invalid("audience: no verified association (or accepted member) matches it")
    known = work.directory.associations(list(filter(None, [draft.from_association_id])))
    message_id = uuid4()
    work.messages.add_message(
        id=message_id, conversation_id=None, broadcast_id=broadcast_id, kind="broadcast", sender=sender,
        sender_name=name_of_sender(principal, sender, known), sender_account_id=principal.account_id,
        subject=draft.subject, body=draft.body, html=render(draft.body), contact=None, posted_at=now,
    )  # fmt: skip
    work.messages.add_broadcast(
        id=broadcast_id, message_id=message_id, sender=sender, sender_account_id=principal.account_id,
        audience=draft.audience.model_dump(mode="json"), recipients=len(recipients), reference=None,
        urgency="normal", sent_at=now,
    )  # fmt: skip
    deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy, urgent=False,
            directory=entries, members_country=members_country)  # fmt: skip
    work.add_event(
        BroadcastSentV1(
            event_id=uuid4(), occurred_at=now, aggregate_id=broadcast_id, aggregate_version=1,
            message_id=message_id, sender=sender, recipients=len(recipients),
        )
    )  # fmt: skip
    return len(recipients)


def get_broadcast(*, unit_of_work: Callable, principal: Principal, broadcast_id: UUID) -> BroadcastV1:
    with unit_of_work() as work:
        record = work.messages.broadcast(broadcast_id)
        if record is None or not (principal.is_cell_staff or record.sender in domain.parties_of(principal)):
            raise NotFound(f"there is no broadcast with id {broadcast_id}")
        message = work.messages.message(record.message_id)
        counts = work.messages.delivery_counts(record.message_id)
        delivered = {"inbox": ChannelCounts(sent=record.recipients)} | {
            channel: ChannelCounts(**states) for channel, states in counts.items()
        }
        return BroadcastV1(
            id=record.id, message_id=record.message_id, subject=message.subject,
            sender=domain.party_of(record.sender, message.sender_name), sent_at=record.sent_at,
            recipients=record.recipients, read=work.messages.read_count(record.message_id), delivered=delivered,
            failed=sum(states.get("failed", 0) for states in counts.values()),
        )  # fmt: skip


def notify(
    *, unit_of_work: Callable, now: datetime, service: str, request: NotifyRequest, render, policy: Policy
) -> NotificationReceipt:
    """Another service reaches associations and people: the id comes back at once; deliveries go out from the
    queue."""
    notification_id, message_id = notification_id_of(service, request.once_key), uuid4()
    sender = f"service:{notification_id}"
    with unit_of_work() as work:
        if request.once_key is not None and (sent := work.messages.broadcast(notification_id)) is not None:
            return NotificationReceipt(id=notification_id, recipients=sent.recipients)
        known = work.directory.associations(list(dict.fromkeys(request.recipients)))
        recipients = [domain.association_party(i) for i in dict.fromkeys(request.recipients) if i in known]
        recipients += [domain.individual_party(i) for i in dict.fromkeys(request.individuals)]
        recipients += [domain.CELL_PARTY] if request.cell else []
        work.messages.add_message(
            id=message_id, conversation_id=None, broadcast_id=notification_id, kind="notification", sender=sender,
            sender_name=service, sender_account_id=None, subject=request.subject, body=request.body,
            html=render(request.body), contact=None, posted_at=now,
        )  # fmt: skip
        work.messages.add_broadcast(
            id=notification_id, message_id=message_id, sender=sender, sender_account_id=None,
            audience={"kind": request.kind, "recipients": [str(i) for i in request.recipients],
                      "individuals": [str(i) for i in request.individuals], "cell": request.cell},
            recipients=len(recipients), reference=request.reference, urgency=request.urgency, sent_at=now,
        )  # fmt: skip
        deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy,
                urgent=request.urgency == "urgent", reference=request.reference)  # fmt: skip
        work.add_event(
            BroadcastSentV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=notification_id, aggregate_version=1,
                message_id=message_id, sender=sender, recipients=len(recipients), reference=request.reference,
            )
        )  # fmt: skip
    return NotificationReceipt(id=notification_id, recipients=len(recipients))


def notification_id_of(service: str, once_key: str | None) -> UUID:
    """The same for every notification a service sends with one key: a repeat finds the first (the broadcast's
    primary key also refuses a repeat made at the same moment)."""
    return uuid4() if once_key is None else uuid5(ONCE_KEYS, f"{service}\n{once_key}")


def tell_sender_of_failure(*, unit_of_work: Callable, event: DeliveryFailedV1, now: datetime) -> bool:
    """The sender of a message (an association or an account) finds a notice in their inbox; the recipient's
    admins see the failed delivery in their deliveries."""
    with unit_of_work() as work:
        message = work.messages.message(event.message_id)
        if message is None or message.sender.startswith("service:"):
            return False
        association_id = domain.association_party_id(event.recipient)
        recipient = work.directory.associations([association_id]) if association_id is not None else {}
        name = next((entry.name for entry in recipient.values()), "a member")
        notice_id = uuid4()
        body = f"The {event.channel} to {name} could not be delivered after {event.attempts} attempts: {event.error}"
        work.messages.add_message(
            id=notice_id, conversation_id=message.conversation_id, broadcast_id=message.broadcast_id,
            kind="notification", sender=f"service:{event.aggregate_id}", sender_name="DiasporaHub",
            sender_account_id=None, subject=f"Not delivered: {message.subject}", body=body, html=body,
            contact=None, posted_at=now,
        )  # fmt: skip
        work.messages.deliver_to_inboxes(notice_id, [message.sender], now)
        return True
