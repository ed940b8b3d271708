"""Messaging use cases: the directory projection, conversations, inboxes, broadcasts.

`unit_of_work` opens a unit of work with `directory`, `messages` and `deliveries` repositories; `now` is the
service clock's time; `render` turns a body into safe HTML. Who may do what is decided here from the caller's
principal, which the gateway got from the registry.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from contracts.accounts import Principal
from contracts.associations import AssociationV1
from contracts.errors import Forbidden, Invalid, NotFound
from contracts.events import (
    AssociationEvent,
    BroadcastSentV1,
    ConversationStartedV1,
    DeliveryFailedV1,
    MembershipChangedV1,
    MessagePostedV1,
)
from contracts.messaging import (
    BroadcastDraft,
    BroadcastV1,
    ChannelCounts,
    ConversationDraft,
    ConversationList,
    ConversationQuery,
    ConversationV1,
    Inbox,
    InboxQuery,
    MessageDraft,
    MessageV1,
    NotificationReceipt,
    NotifyRequest,
    Report,
    ReportList,
    SendingBlock,
    SendingBlockV1,
)
from services.messaging import domain
from services.messaging.domain import Channels, Policy

log = logging.getLogger(__name__)
REBUILD_PAGE = 500


# the directory


def project_association(*, unit_of_work: Callable, event: AssociationEvent) -> bool:
    with unit_of_work() as work:
        return work.directory.put_association(event.association, event.admin_account_ids)


def project_membership(*, unit_of_work: Callable, event: MembershipChangedV1) -> bool:
    with unit_of_work() as work:
        return work.directory.put_membership(event.membership, event.aggregate_version)


def rebuild_directory(*, unit_of_work: Callable, associations_after: Callable[[str | None, int], list]) -> int:
    """Page through the registry's associations; newer versions replace older ones, so events arriving meanwhile
    are not undone."""
    after, count = None, 0
    while True:
        page = [AssociationV1.model_validate(item) for item in associations_after(after, REBUILD_PAGE)]
        if not page:
            return count
        with unit_of_work() as work:
            for association in page:
                work.directory.put_association(association, None)
        count += len(page)
        after = str(page[-1].id)


# conversations


def _channels(work, association_ids: list[UUID], directory: dict) -> dict[UUID, Channels]:
    stored = work.messages.settings(association_ids)
    channels = {}
    for association_id in association_ids:
        record = stored.get(association_id)
        entry = directory.get(association_id)
        fallback = entry.email if entry is not None else None
        channels[association_id] = (
            Channels(email=fallback)
            if record is None
            else Channels(email_mode=record.email_mode, email=record.email or fallback, webhook_url=record.webhook_url)
        )
    return channels


def _deliver(
    work, *, message_id: UUID, recipients: list[str], now, policy: Policy, urgent: bool, reference=None, directory=None
):
    """Inbox copies for everyone now; e-mail and webhook deliveries queued for associations."""
    work.messages.deliver_to_inboxes(message_id, recipients, now)
    association_ids = [party_id for party_id in map(domain.association_party_id, recipients) if party_id]
    if directory is None:
        directory = work.directory.associations(association_ids)
    rows = []
    for association_id, channels in _channels(work, association_ids, directory).items():
        for row in domain.planned_deliveries(
            domain.association_party(association_id), channels, now=now, urgent=urgent, policy=policy
        ):
            rows.append(row | {"message_id": message_id, "reference": reference})
    work.deliveries.queue(rows)


def _sender_name(principal: Principal, sender: str, directory: dict) -> str:
    association_id = domain.association_party_id(sender)
    if association_id is not None and association_id in directory:
        return directory[association_id].name
    return "Mizo Diaspora Cell" if principal.is_cell_staff else principal.display_name


def start_conversation(
    *, unit_of_work: Callable, now: datetime, principal: Principal, draft: ConversationDraft, render, policy: Policy
) -> ConversationV1:
    sender = domain.speaker(principal, draft.from_association_id)
    participant_ids = list(dict.fromkeys(draft.participants))
    with unit_of_work() as work:
        policy.posts.check(
            work.messages.posted_since(principal.account_id, now - policy.posts.window, broadcasts=False)
        )
        known = work.directory.associations([*participant_ids, *filter(None, [draft.from_association_id])])
        domain.check_conversation(principal, sender, [known.get(i) for i in participant_ids], participant_ids)
        conversation_id, message_id = uuid4(), uuid4()
        names = {domain.association_party(i): known[i].name for i in participant_ids}
        names[sender] = _sender_name(principal, sender, known)
        work.messages.add_conversation(
            participants=names, id=conversation_id, subject=draft.subject, started_by=sender,
            started_at=now, last_message_at=now, message_count=1,
        )  # fmt: skip
        contact = principal.email if draft.share_contact and sender.startswith("account:") else None
        _post(work, principal, conversation_id, message_id, sender, names[sender], draft.subject, draft.body,
              contact, now, render, policy, [p for p in names if p != sender])  # fmt: skip
        work.add_event(
            ConversationStartedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=conversation_id, aggregate_version=1,
                subject=draft.subject, participants=list(names),
            )
        )  # fmt: skip
        return work.messages.conversation_view(work.messages.conversation(conversation_id), {sender}, messages=True)


def _post(work, principal, conversation_id, message_id, sender, sender_name, subject, body, contact, now, render,
          policy, recipients):  # fmt: skip
    record = work.messages.add_message(
        id=message_id, conversation_id=conversation_id, broadcast_id=None, kind="message", sender=sender,
        sender_name=sender_name, sender_account_id=principal.account_id, subject=subject, body=body,
        html=render(body), contact=contact, posted_at=now,
    )  # fmt: skip
    _deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy, urgent=False)
    return record


def _not_blocked(work, sender: str) -> None:
    association_id = domain.association_party_id(sender)
    if association_id is not None and work.messages.is_blocked(association_id):
        raise Forbidden(f"the Mizo Diaspora Cell has stopped association {association_id} from sending messages")


def _visible_conversation(work, principal: Principal, conversation_id: UUID, *, lock: bool = False):
    """The conversation and the caller's parties in it; NotFound for anyone who takes no part."""
    record = work.messages.conversation(conversation_id, lock=lock)
    participants = work.messages.participants(conversation_id) if record is not None else {}
    mine = domain.parties_of(principal) & set(participants)
    if record is None or not mine:
        raise NotFound(f"there is no conversation with id {conversation_id}")
    return record, participants, mine


def post_message(
    *, unit_of_work: Callable, now: datetime, principal: Principal, conversation_id: UUID, draft: MessageDraft,
    render, policy: Policy,
) -> MessageV1:  # fmt: skip
    with unit_of_work() as work:
        record, participants, mine = _visible_conversation(work, principal, conversation_id, lock=True)
        if draft.from_association_id is not None:
            sender = domain.speaker(principal, draft.from_association_id)
            if sender not in participants:
                raise Forbidden(f"association {draft.from_association_id} does not take part in this conversation")
        elif len(mine) == 1:
            [sender] = mine
        else:
            raise Invalid("from_association_id: you take part as several associations; say which one speaks")
        _not_blocked(work, sender)
        policy.posts.check(
            work.messages.posted_since(principal.account_id, now - policy.posts.window, broadcasts=False)
        )
        message_id = uuid4()
        record.message_count += 1
        record.last_message_at = now
        if any(participant.archived for participant in participants.values()):
            work.messages.unarchive_all(conversation_id)
        recipients = [party for party in participants if party != sender]
        posted = _post(work, principal, conversation_id, message_id, sender, participants[sender].name, record.subject,
              draft.body, None, now, render, policy, recipients)  # fmt: skip
        work.add_event(
            MessagePostedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=conversation_id,
                aggregate_version=record.message_count, message_id=message_id, sender=sender, recipients=recipients,
            )
        )  # fmt: skip
        return work.messages.view_of(posted)


def get_conversation(*, unit_of_work: Callable, principal: Principal, conversation_id: UUID) -> ConversationV1:
    with unit_of_work() as work:
        record, _, mine = _visible_conversation(work, principal, conversation_id)
        return work.messages.conversation_view(record, mine, messages=True)


def list_conversations(*, unit_of_work: Callable, principal: Principal, query: ConversationQuery) -> ConversationList:
    readers = domain.reader(principal, query.association_id)
    with unit_of_work() as work:
        records = work.messages.conversations_of(readers, archived=query.archived)
        return ConversationList(
            items=[work.messages.conversation_view(record, readers, messages=False) for record in records]
        )


def archive_conversation(*, unit_of_work: Callable, principal: Principal, conversation_id: UUID) -> ConversationV1:
    with unit_of_work() as work:
        record, _, mine = _visible_conversation(work, principal, conversation_id)
        work.messages.archive(conversation_id, mine)
    with unit_of_work() as work:
        return work.messages.conversation_view(work.messages.conversation(conversation_id), mine, messages=False)


# inboxes, reading, reporting


def inbox(*, unit_of_work: Callable, principal: Principal, query: InboxQuery) -> Inbox:
    owners = domain.reader(principal, query.association_id)
    with unit_of_work() as work:
        return Inbox(
            items=work.messages.inbox(owners, unread_only=query.unread), unread=work.messages.unread_count(owners)
        )


def mark_read(*, unit_of_work: Callable, now: datetime, principal: Principal, message_id: UUID) -> None:
    with unit_of_work() as work:
        owners = work.messages.inbox_owners(message_id, domain.parties_of(principal))
        if not owners:
            raise NotFound(f"there is no message with id {message_id} in your inboxes")
        work.messages.mark_read(message_id, owners, now)


def report_message(
    *, unit_of_work: Callable, now: datetime, principal: Principal, message_id: UUID, report: Report
) -> None:
    """A recipient reports a message to the Cell; reporting it again changes nothing."""
    with unit_of_work() as work:
        owners = work.messages.inbox_owners(message_id, domain.parties_of(principal))
        if not owners:
            raise NotFound(f"there is no message with id {message_id} in your inboxes")
        work.messages.add_report(
            message_id=message_id, reporter=sorted(owners)[0], reporter_account_id=principal.account_id,
            reason=report.reason, reported_at=now,
        )  # fmt: skip
    log.info("message %s reported", message_id)


# broadcasts and notifications


def _audience(work, draft: BroadcastDraft) -> tuple[list[str], dict]:
    """The recipients' parties, and the directory entries of those that are associations."""
    audience = draft.audience
    if audience.members_of is not None:
        return [domain.individual_party(i) for i in work.directory.members_of(audience.members_of)], {}
    if audience.branches_of is not None:
        entries = work.directory.branches_of(audience.branches_of)
    else:
        entries = [entry for entry in work.directory.verified() if domain.matches(audience, entry)]
    return [domain.association_party(entry.id) for entry in entries], {entry.id: entry for entry in entries}


def broadcast(
    *, unit_of_work: Callable, now: datetime, principal: Principal, draft: BroadcastDraft, render, policy: Policy
) -> BroadcastV1:
    """Every recipient's inbox copy and every delivery row are written in the transaction of the broadcast: a
    crash leaves all of them or none, and the senders pick up the deliveries after the answer."""
    sender = domain.broadcast_sender(principal, draft.from_association_id, draft.audience)
    with unit_of_work() as work:
        _not_blocked(work, sender)
        policy.broadcasts.check(
            work.messages.posted_since(principal.account_id, now - policy.broadcasts.window, broadcasts=True)
        )
        recipients, entries = _audience(work, draft)
        if not recipients:
            raise Invalid("audience: no verified association (or accepted member) matches it")
        known = work.directory.associations(list(filter(None, [draft.from_association_id])))
        broadcast_id, message_id = uuid4(), uuid4()
        sender_name = _sender_name(principal, sender, known)
        work.messages.add_message(
            id=message_id, conversation_id=None, broadcast_id=broadcast_id, kind="broadcast", sender=sender,
            sender_name=sender_name, sender_account_id=principal.account_id, subject=draft.subject, body=draft.body,
            html=render(draft.body), contact=None, posted_at=now,
        )  # fmt: skip
        work.messages.add_broadcast(
            id=broadcast_id, message_id=message_id, sender=sender, sender_account_id=principal.account_id,
            audience=draft.audience.model_dump(mode="json"), recipients=len(recipients), reference=None,
            urgency="normal", sent_at=now,
        )  # fmt: skip
        _deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy, urgent=False,
                 directory=entries)  # fmt: skip
        work.add_event(
            BroadcastSentV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=broadcast_id, aggregate_version=1,
                message_id=message_id, sender=sender, recipients=len(recipients),
            )
        )  # fmt: skip
    log.info("broadcast %s to %d recipients", broadcast_id, len(recipients))
    return get_broadcast(unit_of_work=unit_of_work, principal=principal, broadcast_id=broadcast_id)


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
    """Another service reaches associations: the id comes back at once; deliveries go out from the queue."""
    notification_id, message_id = uuid4(), uuid4()
    sender = f"service:{notification_id}"
    with unit_of_work() as work:
        known = work.directory.associations(list(dict.fromkeys(request.recipients)))
        recipients = [domain.association_party(i) for i in dict.fromkeys(request.recipients) if i in known]
        work.messages.add_message(
            id=message_id, conversation_id=None, broadcast_id=notification_id, kind="notification", sender=sender,
            sender_name=service, sender_account_id=None, subject=request.subject, body=request.body,
            html=render(request.body), contact=None, posted_at=now,
        )  # fmt: skip
        work.messages.add_broadcast(
            id=notification_id, message_id=message_id, sender=sender, sender_account_id=None,
            audience={"kind": request.kind, "recipients": [str(i) for i in request.recipients]},
            recipients=len(recipients), reference=request.reference, urgency=request.urgency, sent_at=now,
        )  # fmt: skip
        _deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy,
                 urgent=request.urgency == "urgent", reference=request.reference)  # fmt: skip
        work.add_event(
            BroadcastSentV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=notification_id, aggregate_version=1,
                message_id=message_id, sender=sender, recipients=len(recipients), reference=request.reference,
            )
        )  # fmt: skip
    return NotificationReceipt(id=notification_id, recipients=len(recipients))


def tell_sender_of_failure(*, unit_of_work: Callable, event: DeliveryFailedV1, now: datetime) -> bool:
    """The sender of a message (an association or an account) finds a notice in their inbox; the recipient's
    admins see the failed delivery in their deliveries."""
    with unit_of_work() as work:
        message = work.messages.message(event.message_id)
        if message is None or message.sender.startswith("service:"):
            return False
        recipient = work.directory.associations([domain.association_party_id(event.recipient)])
        name = next((entry.name for entry in recipient.values()), event.recipient)
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


# moderation, for the Cell


def _cell_only(principal: Principal) -> None:
    if not principal.is_cell_staff:
        raise Forbidden("only the Mizo Diaspora Cell moderates messages")


def list_reports(*, unit_of_work: Callable, principal: Principal) -> ReportList:
    _cell_only(principal)
    with unit_of_work() as work:
        return ReportList(items=work.messages.reports())


def block_sending(
    *, unit_of_work: Callable, now: datetime, principal: Principal, association_id: UUID, block: SendingBlock
) -> SendingBlockV1:
    _cell_only(principal)
    with unit_of_work() as work:
        if association_id not in work.directory.associations([association_id]):
            raise NotFound(f"there is no association with id {association_id}")
        work.messages.set_block(association_id, blocked=block.blocked, reason=block.reason,
                                by=principal.account_id, now=now)  # fmt: skip
    log.info("association %s %s sending", association_id, "blocked from" if block.blocked else "allowed")
    return SendingBlockV1(association_id=association_id, blocked=block.blocked, reason=block.reason, changed_at=now)
