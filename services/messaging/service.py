"""The messaging service's nameko entrypoints; the work is in handlers.py and delivery/handlers.py.

Every call from the gateway carries the caller's principal (the registry's answer for their session); who may
read or post is decided in the handlers from it.
"""

from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from contracts.accounts import TrustedPrincipal
from contracts.errors import EXPECTED_ERRORS, NotFound
from contracts.events import (
    AccountDeletedV1,
    AssociationEvent,
    DeliveryFailedV1,
    IndividualDeletedV1,
    MembershipChangedV1,
)
from contracts.messaging import (
    BroadcastDraft,
    BroadcastV1,
    ConversationDraft,
    ConversationList,
    ConversationQuery,
    ConversationV1,
    DeliveryList,
    DeliveryQuery,
    DirectoryRebuild,
    IdempotencyKey,
    Inbox,
    InboxQuery,
    MemberNotificationSettings,
    MemberNotificationSettingsV1,
    MessageDraft,
    MessageV1,
    NotificationReceipt,
    NotificationSettings,
    NotificationSettingsV1,
    NotifyRequest,
    Report,
    ReportDecision,
    ReportList,
    ReportQuery,
    ReportStatusList,
    ReportV1,
    SendingBlock,
    SendingBlockV1,
)
from contracts.topology import (
    MESSAGING_DIRECTORY,
    MESSAGING_FAILED_DELIVERIES,
    MESSAGING_MEMBERSHIPS,
    MESSAGING_PEOPLE,
)
from servicekit.consumer import event_consumer
from servicekit.database import Database
from servicekit.health import Pingable
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.rpc import TimedRpcProxy, rpc
from servicekit.rpc_writes import rpc_write
from servicekit.shared import Shared
from services.messaging import broadcasts, handlers, moderation
from services.messaging.db import Base
from services.messaging.delivery import handlers as delivery
from services.messaging.delivery.sender import REPOSITORIES, DeliverySender
from services.messaging.delivery.transports import check_webhook_url, new_unsubscribe_key, new_webhook_secret
from services.messaging.domain import Policy
from services.messaging.markup import render
from services.messaging.metrics import deliveries_by_channel_and_state
from services.messaging.settings import MessagingSettings, policy_of

# Who is asking (a Principal) is believed only from the gateway, which resolved it from a session token: so it is
# taken as a TrustedPrincipal, its e-mail address not checked again.
FROM_THE_GATEWAY = ("gateway",)


def system_clock() -> datetime:
    return datetime.now(UTC)


def policy_from_settings() -> Policy:
    return policy_of(MessagingSettings())


def id_of(value: str, kind: str) -> UUID:
    """An id from a URL that is not a UUID names nothing: not found (404)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"there is no {kind} with id {value}") from None


def report_id_of(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound(f"there is no report with id {value}")
    return int(value)


class MessagingService(Pingable):
    name = "messaging"

    unit_of_work = Database(MessagingSettings, Base.metadata, repositories=REPOSITORIES, relay_outbox=True)
    sender = DeliverySender()
    registry = TimedRpcProxy("registry")
    clock = Shared(lambda: system_clock)
    policy = Shared(policy_from_settings)
    settings = Shared(MessagingSettings)
    call_id_logging = CallIdLogging()
    metrics = Metrics(collectors=(deliveries_by_channel_and_state,))

    @event_consumer(MESSAGING_DIRECTORY)
    def on_directory_event(self, event: AssociationEvent | AccountDeletedV1) -> None:
        if isinstance(event, AccountDeletedV1):
            handlers.forget_admin(unit_of_work=self.unit_of_work, event=event)
        else:
            handlers.project_association(unit_of_work=self.unit_of_work, event=event)

    @event_consumer(MESSAGING_MEMBERSHIPS)
    def on_membership_changed(self, event: MembershipChangedV1) -> None:
        handlers.project_membership(unit_of_work=self.unit_of_work, event=event)

    @event_consumer(MESSAGING_PEOPLE)
    def on_individual_deleted(self, event: IndividualDeletedV1) -> None:
        handlers.forget_person(unit_of_work=self.unit_of_work, event=event)

    @event_consumer(MESSAGING_FAILED_DELIVERIES)
    def on_delivery_failed(self, event: DeliveryFailedV1) -> None:
        broadcasts.tell_sender_of_failure(unit_of_work=self.unit_of_work, event=event, now=self.clock())

    @rpc(expected_exceptions=EXPECTED_ERRORS)
    def rebuild_directory(self) -> DirectoryRebuild:
        """Read every association and membership again from the registry (after a restore, or from nothing)."""
        associations, memberships = handlers.rebuild_directory(
            unit_of_work=self.unit_of_work, associations_after=self.registry.associations_after,
            memberships_after=self.registry.memberships_after,
        )  # fmt: skip
        return DirectoryRebuild(associations=associations, memberships=memberships)

    def _use(self, use_case, **arguments):
        return use_case(unit_of_work=self.unit_of_work, **arguments)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def start_conversation(
        self, principal: TrustedPrincipal, draft: ConversationDraft, idempotency_key: IdempotencyKey | None = None
    ) -> ConversationV1:
        # The sender's next poll (MESSAGING_DELIVERY_POLL_SECONDS) plans and sends its e-mails with others: a post does
        # not wake it, so that many posts share one claim and one SMTP connection; broadcasts and notifications wake it.
        return self._use(handlers.start_conversation, now=self.clock(), principal=principal, draft=draft,
                         render=render, policy=self.policy, idempotency_key=idempotency_key)  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def list_conversations(self, principal: TrustedPrincipal, query: ConversationQuery) -> ConversationList:
        return self._use(handlers.list_conversations, principal=principal, query=query)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def get_conversation(self, principal: TrustedPrincipal, conversation_id: str) -> ConversationV1:
        return self._use(handlers.get_conversation, principal=principal,
                         conversation_id=id_of(conversation_id, "conversation"))  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def post_message(
        self, principal: TrustedPrincipal, conversation_id: str, draft: MessageDraft,
        idempotency_key: IdempotencyKey | None = None,
    ) -> MessageV1:  # fmt: skip
        return self._use(handlers.post_message, now=self.clock(), principal=principal,
                         conversation_id=id_of(conversation_id, "conversation"), draft=draft, render=render,
                         policy=self.policy, idempotency_key=idempotency_key)  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def archive_conversation(self, principal: TrustedPrincipal, conversation_id: str) -> ConversationV1:
        return self._use(handlers.archive_conversation, principal=principal,
                         conversation_id=id_of(conversation_id, "conversation"))  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def inbox(self, principal: TrustedPrincipal, query: InboxQuery) -> Inbox:
        return self._use(handlers.inbox, principal=principal, query=query)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def mark_read(self, principal: TrustedPrincipal, message_id: str) -> None:
        self._use(handlers.mark_read, now=self.clock(), principal=principal, message_id=id_of(message_id, "message"))

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def report_message(self, principal: TrustedPrincipal, message_id: str, report: Report) -> None:
        self._use(moderation.report_message, now=self.clock(), principal=principal,
                  message_id=id_of(message_id, "message"), report=report)  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def broadcast(
        self, principal: TrustedPrincipal, draft: BroadcastDraft, idempotency_key: IdempotencyKey | None = None
    ) -> BroadcastV1:
        sent = self._use(broadcasts.broadcast, now=self.clock(), principal=principal, draft=draft, render=render,
                         policy=self.policy, idempotency_key=idempotency_key)  # fmt: skip
        self.sender.wake()
        return sent

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def get_broadcast(self, principal: TrustedPrincipal, broadcast_id: str) -> BroadcastV1:
        return self._use(broadcasts.get_broadcast, principal=principal, broadcast_id=id_of(broadcast_id, "broadcast"))

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=("alerts",))  # the services that notify associations
    def notify(self, request: NotifyRequest, service: str) -> NotificationReceipt:
        """For other services: returns the notification id at once; e-mails and webhooks go out from the queue."""
        receipt = self._use(broadcasts.notify, now=self.clock(), service=service, request=request, render=render,
                            policy=self.policy)  # fmt: skip
        self.sender.wake()
        return receipt

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def get_notification_settings(self, principal: TrustedPrincipal, association_id: str) -> NotificationSettingsV1:
        return self._use(delivery.get_settings, principal=principal,
                         association_id=id_of(association_id, "association"))  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def put_notification_settings(
        self, principal: TrustedPrincipal, association_id: str, settings: NotificationSettings
    ) -> NotificationSettingsV1:
        allow = self.settings.allow_private_webhooks
        return self._use(delivery.put_settings, now=self.clock(), principal=principal,
                         association_id=id_of(association_id, "association"), settings=settings,
                         check_webhook_url=partial(check_webhook_url, allow_private=allow),
                         new_secret=new_webhook_secret, new_key=new_unsubscribe_key)  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def list_deliveries(self, principal: TrustedPrincipal, association_id: str, query: DeliveryQuery) -> DeliveryList:
        return self._use(delivery.list_deliveries, principal=principal,
                         association_id=id_of(association_id, "association"), query=query)  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def unsubscribe(self, key: str) -> None:
        self._use(delivery.unsubscribe, now=self.clock(), key=key)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def get_member_notification_settings(self, principal: TrustedPrincipal) -> MemberNotificationSettingsV1:
        return self._use(delivery.get_member_settings, principal=principal)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def put_member_notification_settings(
        self, principal: TrustedPrincipal, settings: MemberNotificationSettings
    ) -> MemberNotificationSettingsV1:
        return self._use(delivery.put_member_settings, now=self.clock(), principal=principal, settings=settings,
                         new_key=new_unsubscribe_key)  # fmt: skip

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def my_reports(self, principal: TrustedPrincipal) -> ReportStatusList:
        return self._use(moderation.my_reports, principal=principal)

    @rpc(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def list_reports(self, principal: TrustedPrincipal, query: ReportQuery) -> ReportList:
        return self._use(moderation.list_reports, principal=principal, query=query)

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def decide_report(self, principal: TrustedPrincipal, report_id: str, decision: ReportDecision) -> ReportV1:
        return self._use(moderation.decide_report, now=self.clock(), principal=principal,
                         report_id=report_id_of(report_id), decision=decision)  # fmt: skip

    @rpc_write(expected_exceptions=EXPECTED_ERRORS, callers=FROM_THE_GATEWAY)
    def block_sending(self, principal: TrustedPrincipal, association_id: str, block: SendingBlock) -> SendingBlockV1:
        return self._use(moderation.block_sending, now=self.clock(), principal=principal,
                         association_id=id_of(association_id, "association"), block=block)  # fmt: skip
