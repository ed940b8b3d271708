"""Messaging routes: conversations, inboxes, broadcasts, notification settings, deliveries.

The gateway resolves the session to the caller's principal (the registry's `whoami`) and passes it on; the
messaging service decides who may read or post.
"""

from pydantic import TypeAdapter, ValidationError
from werkzeug.wrappers import Request, Response

from contracts.errors import Invalid, Unauthenticated
from contracts.messaging import (
    BroadcastDraft,
    BroadcastV1,
    ConversationDraft,
    ConversationList,
    ConversationQuery,
    ConversationV1,
    DeliveryList,
    DeliveryQuery,
    IdempotencyKey,
    Inbox,
    InboxQuery,
    MemberNotificationSettings,
    MemberNotificationSettingsV1,
    MessageDraft,
    MessageV1,
    NotificationSettings,
    NotificationSettingsV1,
    Report,
    ReportDecision,
    ReportList,
    ReportQuery,
    ReportStatusList,
    ReportV1,
    SendingBlock,
    SendingBlockV1,
)
from gateway.auth import principal_of
from gateway.http import Session, api

PARTICIPANTS = "the admins of its associations, the person or Cell staff member in it"
IDEMPOTENCY_KEY = (
    (
        "Idempotency-Key",
        IdempotencyKey,
        "1–255 visible ASCII characters, new for each new request: a retry with the same key gets what the first"
        " request made instead of making it again; the same key with a different request is a 422",
    ),
)
_KEY = TypeAdapter(IdempotencyKey)


def idempotency_key_of(request: Request) -> str | None:
    """The client's `Idempotency-Key` header, if it sent one."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    try:
        return _KEY.validate_python(key)
    except ValidationError:
        raise Invalid("Idempotency-Key: send 1 to 255 visible ASCII characters (a UUID will do)") from None


def caller_of(service, request: Request) -> dict:
    principal = principal_of(service, request)
    if principal is None:
        raise Unauthenticated("Your session has ended; sign in again.")
    return principal.model_dump(mode="json")


class MessagingRoutes:
    @api("POST", "/api/v1/conversations", summary="Start a conversation with associations (or, as a person, with"
         " one verified association)", who="signed in", session=Session.REQUIRED, body=ConversationDraft,
         returns=ConversationV1, status=201, headers=IDEMPOTENCY_KEY)  # fmt: skip
    def start_conversation(self, request: Request, body: ConversationDraft):
        caller, key = caller_of(self, request), idempotency_key_of(request)
        return 201, self.messaging.start_conversation(caller, body.model_dump(mode="json"), key)

    @api("GET", "/api/v1/conversations", summary="The conversations of the caller, or of one association they"
         " administer", who="signed in", session=Session.REQUIRED, query=ConversationQuery,
         returns=ConversationList)  # fmt: skip
    def list_conversations(self, request: Request, query: ConversationQuery):
        return self.messaging.list_conversations(caller_of(self, request), query.model_dump(mode="json"))

    @api("GET", "/api/v1/conversations/<string:conversation_id>", summary="One conversation, its messages in"
         " order", who=PARTICIPANTS, session=Session.REQUIRED, returns=ConversationV1)  # fmt: skip
    def get_conversation(self, request: Request, conversation_id: str):
        return self.messaging.get_conversation(caller_of(self, request), conversation_id)

    @api("POST", "/api/v1/conversations/<string:conversation_id>/messages", summary="Post a message",
         who=PARTICIPANTS, session=Session.REQUIRED, body=MessageDraft, returns=MessageV1, status=201,
         headers=IDEMPOTENCY_KEY)  # fmt: skip
    def post_message(self, request: Request, conversation_id: str, body: MessageDraft):
        caller, key = caller_of(self, request), idempotency_key_of(request)
        return 201, self.messaging.post_message(caller, conversation_id, body.model_dump(mode="json"), key)

    @api("POST", "/api/v1/conversations/<string:conversation_id>/archive", summary="Archive it for the caller's"
         " side (a new message brings it back)", who=PARTICIPANTS, session=Session.REQUIRED,
         returns=ConversationV1)  # fmt: skip
    def archive_conversation(self, request: Request, conversation_id: str):
        return self.messaging.archive_conversation(caller_of(self, request), conversation_id)

    @api("GET", "/api/v1/inbox", summary="The caller's inbox, or an association's (`association_id`)",
         who="signed in; an association's: its admins", session=Session.REQUIRED, query=InboxQuery,
         returns=Inbox)  # fmt: skip
    def inbox(self, request: Request, query: InboxQuery):
        return self.messaging.inbox(caller_of(self, request), query.model_dump(mode="json"))

    @api("POST", "/api/v1/messages/<string:message_id>/read", summary="Mark a message read in the caller's"
         " inboxes", who="its recipients", session=Session.REQUIRED, status=204)  # fmt: skip
    def mark_read(self, request: Request, message_id: str):
        self.messaging.mark_read(caller_of(self, request), message_id)
        return Response(status=204)

    @api("POST", "/api/v1/messages/<string:message_id>/report", summary="Report a message to the Cell",
         who="its recipients", session=Session.REQUIRED, body=Report, status=204)  # fmt: skip
    def report_message(self, request: Request, message_id: str, body: Report):
        self.messaging.report_message(caller_of(self, request), message_id, body.model_dump(mode="json"))
        return Response(status=204)

    @api("POST", "/api/v1/broadcasts", summary="Broadcast: the Cell to associations by country, language,"
         " category or all; a federation to its branches; an association to its members",
         who="the Cell; an association's admins (its branches or members)", session=Session.REQUIRED,
         body=BroadcastDraft, returns=BroadcastV1, status=201, headers=IDEMPOTENCY_KEY)  # fmt: skip
    def broadcast(self, request: Request, body: BroadcastDraft):
        caller, key = caller_of(self, request), idempotency_key_of(request)
        return 201, self.messaging.broadcast(caller, body.model_dump(mode="json"), key)

    @api("GET", "/api/v1/broadcasts/<string:broadcast_id>", summary="A broadcast's counts: recipients, delivered"
         " per channel, read, failed", who="its sender, the Cell", session=Session.REQUIRED,
         returns=BroadcastV1)  # fmt: skip
    def get_broadcast(self, request: Request, broadcast_id: str):
        return self.messaging.get_broadcast(caller_of(self, request), broadcast_id)

    @api("GET", "/api/v1/associations/<string:association_id>/notification-settings", summary="How the"
         " association is reached: e-mail (immediate, digest, off), language, webhook", who="its admins, the Cell",
         session=Session.REQUIRED, returns=NotificationSettingsV1)  # fmt: skip
    def get_notification_settings(self, request: Request, association_id: str):
        return self.messaging.get_notification_settings(caller_of(self, request), association_id)

    @api("PUT", "/api/v1/associations/<string:association_id>/notification-settings", summary="Set them; a new"
         " webhook URL gets a new signing secret, shown in this answer only", who="its admins, the Cell",
         session=Session.REQUIRED, body=NotificationSettings, returns=NotificationSettingsV1)  # fmt: skip
    def put_notification_settings(self, request: Request, association_id: str, body: NotificationSettings):
        caller = caller_of(self, request)
        return self.messaging.put_notification_settings(caller, association_id, body.model_dump(mode="json"))

    @api("GET", "/api/v1/associations/<string:association_id>/deliveries", summary="E-mails and webhooks to the"
         " association: queued, sent, failed", who="its admins, the Cell", session=Session.REQUIRED,
         query=DeliveryQuery, returns=DeliveryList)  # fmt: skip
    def list_deliveries(self, request: Request, association_id: str, query: DeliveryQuery):
        caller = caller_of(self, request)
        return self.messaging.list_deliveries(caller, association_id, query.model_dump(mode="json"))

    @api("POST", "/api/v1/unsubscribe/<string:key>", summary="One-click unsubscribe (RFC 8058): stop the e-mails"
         " of the link's association", who="anyone with the link", session=Session.NONE, status=204)  # fmt: skip
    def unsubscribe(self, request: Request, key: str):
        self.messaging.unsubscribe(key)
        return Response(status=204)

    @api("GET", "/api/v1/me/notification-settings", summary="How the caller hears of what their associations send"
         " their members: the inbox always, e-mail to their account's address if they choose it",
         who="signed in, with a profile", session=Session.REQUIRED, returns=MemberNotificationSettingsV1,
         errors=(404,))  # fmt: skip
    def get_member_notification_settings(self, request: Request):
        return self.messaging.get_member_notification_settings(caller_of(self, request))

    @api("PUT", "/api/v1/me/notification-settings", summary="Set them: e-mail (off, immediate, digest at an hour"
         " and time zone), language", who="signed in, with a profile", session=Session.REQUIRED,
         body=MemberNotificationSettings, returns=MemberNotificationSettingsV1)  # fmt: skip
    def put_member_notification_settings(self, request: Request, body: MemberNotificationSettings):
        caller = caller_of(self, request)
        return self.messaging.put_member_notification_settings(caller, body.model_dump(mode="json"))

    @api("GET", "/api/v1/message-reports", summary="The caller's reports of messages, each with its status (open"
         " until the Cell decides)", who="signed in", session=Session.REQUIRED, returns=ReportStatusList)  # fmt: skip
    def my_message_reports(self, request: Request):
        return self.messaging.my_reports(caller_of(self, request))

    @api("GET", "/api/v1/admin/message-reports", summary="Messages their recipients reported (`status=open` for"
         " those waiting for a decision)", who="the Cell", session=Session.REQUIRED, query=ReportQuery,
         returns=ReportList)  # fmt: skip
    def list_message_reports(self, request: Request, query: ReportQuery):
        return self.messaging.list_reports(caller_of(self, request), query.model_dump(mode="json"))

    @api("POST", "/api/v1/admin/message-reports/<string:report_id>/decision", summary="Decide a report: dismiss"
         " it, or block the association that sent the message from sending", who="the Cell",
         session=Session.REQUIRED, body=ReportDecision, returns=ReportV1)  # fmt: skip
    def decide_message_report(self, request: Request, report_id: str, body: ReportDecision):
        caller = caller_of(self, request)
        return self.messaging.decide_report(caller, report_id, body.model_dump(mode="json"))

    @api("PUT", "/api/v1/admin/messaging-blocks/<string:association_id>", summary="Stop (or let again) an"
         " association send messages and broadcasts", who="the Cell", session=Session.REQUIRED, body=SendingBlock,
         returns=SendingBlockV1)  # fmt: skip
    def block_sending(self, request: Request, association_id: str, body: SendingBlock):
        return self.messaging.block_sending(caller_of(self, request), association_id, body.model_dump(mode="json"))
