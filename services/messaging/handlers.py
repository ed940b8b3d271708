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
    ConversationStartedV1,
    IndividualDeletedV1,
    MembershipChangedV1,
    MessagePostedV1,
)
from contracts.messaging import (
    ConversationDraft,
    ConversationList,
    ConversationQuery,
    ConversationV1,
    Inbox,
    InboxQuery,
    MessageDraft,
    MessageV1,
)
from services.messaging import domain
from services.messaging.domain import Channels, Policy
from services.messaging.idempotency import earlier_result
from services.messaging.time_zones import main_time_zone

log = logging.getLogger(__name__)
REBUILD_PAGE = 500


# the directory


def project_association(*, unit_of_work: Callable, event: AssociationEvent) -> bool:
    with unit_of_work() as work:
        return work.directory.put_association(event.association, event.admin_account_ids)


def project_membership(*, unit_of_work: Callable, event: MembershipChangedV1) -> bool:
    with unit_of_work() as work:
        return work.directory.put_membership(event.membership, event.aggregate_version)


def forget_person(*, unit_of_work: Callable, event: IndividualDeletedV1) -> None:
    """A person deleted their profile and account: their address and name go, and e-mails not yet sent to them with
    them (a repeat finds nothing left to forget). A delivery being sent at this moment may still go out."""
    with unit_of_work() as work:
        work.messages.forget_member_settings(event.aggregate_id)
        dropped = work.deliveries.drop_queued(domain.individual_party(event.aggregate_id))
    log.info("forgot individual %s's member settings and %d queued deliveries", event.aggregate_id, dropped)


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


def _channels(work, association_ids: list[UUID], directory: dict) -> dict[str, Channels]:
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


def deliver(
    work, *, message_id: UUID, recipients: list[str], now, policy: Policy, urgent: bool, reference=None,
    directory=None, members_country: str | None = None,
):  # fmt: skip
    """Inbox copies for everyone now; e-mail and webhook deliveries queued for associations, e-mails for members
    who chose them and for the Cell's duty mailbox when one is configured."""
    work.messages.deliver_to_inboxes(message_id, recipients, now)
    association_ids = [party_id for party_id in map(domain.association_party_id, recipients) if party_id]
    individual_ids = [party_id for party_id in map(domain.individual_party_id, recipients) if party_id]
    if directory is None:
        directory = work.directory.associations(association_ids)
    channels = _channels(work, association_ids, directory)
    if individual_ids:
        channels |= _member_channels(work, individual_ids, members_country)
    if domain.CELL_PARTY in recipients:
        channels[domain.CELL_PARTY] = Channels(email=policy.cell_email)
    work.deliveries.queue([
        row | {"message_id": message_id, "reference": reference}
        for party, party_channels in channels.items()
        for row in domain.planned_deliveries(party, party_channels, now=now, urgent=urgent, policy=policy)
    ])  # fmt: skip


def name_of_sender(principal: Principal, sender: str, directory: dict) -> str:
    association_id = domain.association_party_id(sender)
    if association_id is not None and association_id in directory:
        return directory[association_id].name
    return "Mizo Diaspora Cell" if principal.is_cell_staff else principal.display_name


def start_conversation(
    *, unit_of_work: Callable, now: datetime, principal: Principal, draft: ConversationDraft, render, policy: Policy,
    idempotency_key: str | None = None,
) -> ConversationV1:  # fmt: skip
    sender = domain.speaker(principal, draft.from_association_id)
    participant_ids = list(dict.fromkeys(draft.participants))
    conversation_id, message_id = uuid4(), uuid4()
    with unit_of_work() as work:
        earlier = earlier_result(work, principal=principal, key=idempotency_key, new_id=conversation_id, now=now,
                                 operation="start_conversation", draft=draft)  # fmt: skip
        if earlier is not None:
            return work.messages.conversation_view(work.messages.conversation(earlier), {sender}, messages=True)
        policy.posts.check(
            work.messages.posted_since(
                principal.account_id, now - policy.posts.window, broadcasts=False, at_most=policy.posts.limit
            )
        )
        not_blocked(work, sender)
        known = work.directory.associations([*participant_ids, *filter(None, [draft.from_association_id])])
        domain.check_conversation(principal, sender, [known.get(i) for i in participant_ids], participant_ids)
        names = {domain.association_party(i): known[i].name for i in participant_ids}
        names[sender] = name_of_sender(principal, sender, known)
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
    deliver(work, message_id=message_id, recipients=recipients, now=now, policy=policy, urgent=False)
    return record


def not_blocked(work, sender: str) -> None:
    association_id = domain.association_party_id(sender)
    if association_id is not None and work.moderation.is_blocked(association_id):
        raise Forbidden(f"the Mizo Diaspora Cell has stopped association {association_id} from sending messages")


def _visible_conversation(work, principal: Principal, conversation_id: UUID):
    """The conversation and the caller's parties in it; NotFound for anyone who takes no part."""
    record, participants = work.messages.conversation_with_participants(conversation_id)
    mine = domain.parties_of(principal) & set(participants)
    if record is None or not mine:
        raise NotFound(f"there is no conversation with id {conversation_id}")
    return record, participants, mine


def post_message(
    *, unit_of_work: Callable, now: datetime, principal: Principal, conversation_id: UUID, draft: MessageDraft,
    render, policy: Policy, idempotency_key: str | None = None,
) -> MessageV1:  # fmt: skip
    message_id = uuid4()
    with unit_of_work() as work:
        record, participants, mine = _visible_conversation(work, principal, conversation_id)
        earlier = earlier_result(work, principal=principal, key=idempotency_key, new_id=message_id, now=now,
                                 operation="post_message", draft=draft, conversation_id=conversation_id)  # fmt: skip
        if earlier is not None:
            return work.messages.message_view(earlier)
        if draft.from_association_id is not None:
            sender = domain.speaker(principal, draft.from_association_id)
            if sender not in participants:
                raise Forbidden(f"association {draft.from_association_id} does not take part in this conversation")
        elif len(mine) == 1:
            [sender] = mine
        else:
            raise Invalid("from_association_id: you take part as several associations; say which one speaks")
        not_blocked(work, sender)
        policy.posts.check(
            work.messages.posted_since(
                principal.account_id, now - policy.posts.window, broadcasts=False, at_most=policy.posts.limit
            )
        )
        if any(participant.archived for participant in participants.values()):
            work.messages.unarchive_all(conversation_id)
        recipients = [party for party in participants if party != sender]
        posted = _post(work, principal, conversation_id, message_id, sender, participants[sender].name, record.subject,
              draft.body, None, now, render, policy, recipients)  # fmt: skip
        # Counted last: the conversation's row is locked from here to the commit only, so posts to one
        # conversation wait for each other that long, not for the whole of each other's transaction.
        version = work.messages.count_message(conversation_id, now)
        work.add_event(
            MessagePostedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=conversation_id,
                aggregate_version=version, message_id=message_id, sender=sender, recipients=recipients,
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
