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
    AccountDeletedV1,
    AssociationEvent,
    ConversationStartedV1,
    IndividualDeletedV1,
    MembershipChangedV1,
    MessagePostedV1,
)
from contracts.individuals import VersionedMembership
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
from servicekit.paging import pages_after
from services.messaging import domain
from services.messaging.domain import Policy
from services.messaging.idempotency import earlier_result

log = logging.getLogger(__name__)
REBUILD_PAGE = 500


# the directory


def project_association(*, unit_of_work: Callable, event: AssociationEvent) -> bool:
    with unit_of_work() as work:
        return work.directory.put_association(event.association, event.admin_account_ids)


def forget_admin(*, unit_of_work: Callable, event: AccountDeletedV1) -> None:
    with unit_of_work() as work:
        work.directory.remove_admin(event.aggregate_id, event.administered)


def project_membership(*, unit_of_work: Callable, event: MembershipChangedV1) -> bool:
    with unit_of_work() as work:
        return work.directory.put_membership(event.membership, event.aggregate_version)


def forget_person(*, unit_of_work: Callable, event: IndividualDeletedV1) -> None:
    """A person deleted their profile and account: their address and name go, and e-mails not yet sent to them with
    them (a repeat finds nothing left to forget); their memberships stay, anonymised, as the registry keeps them. A
    delivery being sent at this moment may still go out."""
    with unit_of_work() as work:
        work.messages.forget_member_settings(event.aggregate_id)
        work.directory.anonymise_memberships(event.aggregate_id)
        dropped = work.deliveries.drop_queued(domain.individual_party(event.aggregate_id))
    log.info("forgot individual %s's member settings and %d queued deliveries", event.aggregate_id, dropped)


def rebuild_directory(
    *, unit_of_work: Callable, associations_after: Callable[[str | None, int], list],
    memberships_after: Callable[[str | None, int], list],
) -> tuple[int, int]:  # fmt: skip
    """Page through the registry's associations, then its memberships; newer versions replace older ones, so events
    arriving meanwhile are not undone. Answers how many associations and memberships were read."""
    associations = memberships = 0
    for page in pages_after(
        associations_after, AssociationV1.model_validate, key=lambda item: item.id, size=REBUILD_PAGE
    ):
        with unit_of_work() as work:
            for association in page:
                work.directory.put_association(association, None)
        associations += len(page)
    for page in pages_after(
        memberships_after, VersionedMembership.model_validate, key=lambda item: item.membership.id, size=REBUILD_PAGE
    ):
        with unit_of_work() as work:
            for item in page:
                work.directory.put_membership(item.membership, item.version)
        memberships += len(page)
    return associations, memberships


# conversations


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
              contact, now, render, [p for p in names if p != sender])  # fmt: skip
        work.add_event(
            ConversationStartedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=conversation_id, aggregate_version=1,
                subject=draft.subject, participants=list(names),
            )
        )  # fmt: skip
        return work.messages.conversation_view(work.messages.conversation(conversation_id), {sender}, messages=True)


def _post(work, principal, conversation_id, message_id, sender, sender_name, subject, body, contact, now, render,
          recipients) -> MessageV1:  # fmt: skip
    """The message and its inbox copies; the delivery sender plans its e-mails and webhooks (planning.py)."""
    html = render(body)
    work.posting.add_message(
        id=message_id, conversation_id=conversation_id, broadcast_id=None, kind="message", sender=sender,
        sender_name=sender_name, sender_account_id=principal.account_id, subject=subject, body=body, html=html,
        contact=contact, posted_at=now,
    )  # fmt: skip
    work.messages.deliver_to_inboxes(message_id, recipients, now)
    return MessageV1(id=message_id, conversation_id=conversation_id, broadcast_id=None, sender=domain.party_of(sender,
                     sender_name), body=body, html=html, posted_at=now, contact=contact)  # fmt: skip


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


def _speaking(principal: Principal, draft: MessageDraft, participants, mine: set[str]) -> str:
    if draft.from_association_id is not None:
        sender = domain.speaker(principal, draft.from_association_id)
        if sender not in participants:
            raise Forbidden(f"association {draft.from_association_id} does not take part in this conversation")
        return sender
    if len(mine) == 1:
        [sender] = mine
        return sender
    raise Invalid("from_association_id: you take part as several associations; say which one speaks")


def post_message(
    *, unit_of_work: Callable, now: datetime, principal: Principal, conversation_id: UUID, draft: MessageDraft,
    render, policy: Policy, idempotency_key: str | None = None,
) -> MessageV1:  # fmt: skip
    """Posted hundreds of times a second: what it must know is read in one statement (posting_repository.py), and
    the deliveries are planned by the sender after the commit."""
    message_id = uuid4()
    speakers = [draft.from_association_id] if draft.from_association_id else [a.id for a in principal.administers]
    with unit_of_work() as work:
        context = work.posting.context(conversation_id, account_id=principal.account_id, speakers=speakers,
                                       since=now - policy.posts.window, at_most=policy.posts.limit)  # fmt: skip
        mine = domain.parties_of(principal) & set(context.participants) if context is not None else set()
        if not mine:
            raise NotFound(f"there is no conversation with id {conversation_id}")
        earlier = earlier_result(work, principal=principal, key=idempotency_key, new_id=message_id, now=now,
                                 operation="post_message", draft=draft, conversation_id=conversation_id)  # fmt: skip
        if earlier is not None:
            return work.messages.message_view(earlier)
        sender = _speaking(principal, draft, context.participants, mine)
        if context.speaker_blocked:
            not_blocked(work, sender)
        policy.posts.check(context.recent_posts)
        if any(participant.archived for participant in context.participants.values()):
            work.messages.unarchive_all(conversation_id)
        recipients = [party for party in context.participants if party != sender]
        posted = _post(work, principal, conversation_id, message_id, sender, context.participants[sender].name,
                       context.subject, draft.body, None, now, render, recipients)  # fmt: skip
        version = work.posting.count_message(conversation_id, now)
        work.add_event(
            MessagePostedV1(
                event_id=uuid4(), occurred_at=now, aggregate_id=conversation_id,
                aggregate_version=version, message_id=message_id, sender=sender, recipients=recipients,
            )
        )  # fmt: skip
        return posted


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
