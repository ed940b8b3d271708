"""An association's dashboard (help requests to act on, inbox, conversations, broadcasts to its members,
notification settings, failed deliveries), a conversation with its replies, and the contact form of an
association's profile. Messaging and alerts decide who may read and send; these pages ask and show.

A form that sends something carries a key made when the page was drawn, passed on as the idempotency key: a
form sent twice (a double tap, a reload) sends once.
"""

import uuid

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from contracts.alerts import HelpRequestList
from contracts.associations import AssociationV1
from contracts.errors import DiasporaHubError, Unauthenticated
from contracts.messaging import (
    BroadcastDraft,
    ConversationDraft,
    ConversationList,
    ConversationV1,
    DeliveryList,
    Inbox,
    MessageDraft,
    NotificationSettings,
    NotificationSettingsV1,
)
from contracts.validation import parse
from gateway.auth import session_token_of
from gateway.pages.forms import refusal, refusal_text, text_fields
from gateway.pages.memberships import waiting_requests
from gateway.pages.rendering import page, redirect, render
from gateway.routes.messaging import caller_of

SHOWN_ITEMS = 20
CLOSED = ("resolved", "referred", "cancelled")


def form_key(form: MultiDict) -> str | None:
    key = form.get("form_key", "").strip()
    return key if 0 < len(key) <= 255 else None


def needing_action_first(requests: HelpRequestList) -> list:
    """Open requests first, then those in hand, then closed ones; newest first within each."""
    order = {"open": 0, "claimed": 1, "in_progress": 1}
    newest_first = sorted(requests.items, key=lambda item: item.created_at, reverse=True)
    return sorted(newest_first, key=lambda item: order.get(item.status, 2))


class DashboardPages:
    @page("GET", "/associations/<string:association_id>/dashboard")
    def dashboard_page(self, request: Request, association_id: str):
        return self.dashboard(request, association_id, done=request.args.get("done"), errors={}, message=None)

    def dashboard(self, request: Request, association_id: str, **context):
        caller = caller_of(self, request)
        association = self.registry.get_association(session_token_of(request), association_id)
        settings = NotificationSettingsV1.model_validate(
            self.messaging.get_notification_settings(caller, association_id)
        )
        requests = HelpRequestList.model_validate(
            self.alerts.list_help_requests(caller, {"association_id": association_id, "status": None, "mine": False})
        )
        inbox = Inbox.model_validate(self.messaging.inbox(caller, {"association_id": association_id, "unread": False}))
        conversations = ConversationList.model_validate(
            self.messaging.list_conversations(caller, {"association_id": association_id, "archived": False})
        )
        failed = DeliveryList.model_validate(
            self.messaging.list_deliveries(caller, association_id, {"state": "failed"})
        )
        return render(
            request, "dashboard.html", association=association, settings=settings,
            help_requests=needing_action_first(requests)[:SHOWN_ITEMS], inbox=inbox.items[:SHOWN_ITEMS],
            unread=inbox.unread, conversations=conversations.items[:SHOWN_ITEMS],
            failed=failed.items[:SHOWN_ITEMS], waiting=waiting_requests(self, request, association_id),
            form_key=str(uuid.uuid4()), **context,
        )  # fmt: skip

    @page("POST", "/associations/<string:association_id>/dashboard/settings")
    def notification_settings_form(self, request: Request, association_id: str, form: MultiDict):
        values = text_fields(form, ("email_mode", "email", "language", "digest_hour"))
        try:
            settings = parse(NotificationSettings, values)
            self.messaging.put_notification_settings(
                caller_of(self, request), association_id, settings.model_dump(mode="json")
            )
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return self.dashboard(request, association_id, done=None, **refusal(exc))
        return redirect(request, f"/associations/{association_id}/dashboard?done=settings#settings")

    @page("POST", "/associations/<string:association_id>/dashboard/broadcast")
    def broadcast_form(self, request: Request, association_id: str, form: MultiDict):
        values = text_fields(form, ("subject", "body"))
        audience = {"members_of": association_id}
        try:
            draft = parse(BroadcastDraft, values | {"from_association_id": association_id, "audience": audience})
            self.messaging.broadcast(caller_of(self, request), draft.model_dump(mode="json"), form_key(form))
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return self.dashboard(request, association_id, done=None, **refusal(exc))
        return redirect(request, f"/associations/{association_id}/dashboard?done=broadcast")

    @page("POST", "/associations/<string:association_id>/contact")
    def contact_form(self, request: Request, association_id: str, form: MultiDict):
        caller = caller_of(self, request)
        values = text_fields(form, ("subject", "body"))
        draft = values | {"participants": [association_id], "share_contact": form.get("share_contact") == "yes"}
        try:
            payload = parse(ConversationDraft, draft).model_dump(mode="json")
            started = self.messaging.start_conversation(caller, payload)
        except DiasporaHubError as exc:
            refused = refusal(exc)
            association = AssociationV1.model_validate(
                self.registry.get_association(session_token_of(request), association_id)
            )
            return render(
                request, "association.html", status=refused["status"], association=association, manages=False,
                joining=None, done=None, contact_problem=refusal_text(refused), contact_values=values,
            )  # fmt: skip
        return redirect(request, f"/conversations/{started['id']}")

    @page("GET", "/conversations/<string:conversation_id>")
    def conversation_page(self, request: Request, conversation_id: str):
        return self.conversation(request, conversation_id, errors={}, message=None)

    def conversation(self, request: Request, conversation_id: str, **context):
        conversation = ConversationV1.model_validate(
            self.messaging.get_conversation(caller_of(self, request), conversation_id)
        )
        as_association = request.args.get("as", "")
        return render(
            request, "conversation.html", conversation=conversation, as_association=as_association,
            form_key=str(uuid.uuid4()), **context,
        )  # fmt: skip

    @page("POST", "/conversations/<string:conversation_id>")
    def reply_form(self, request: Request, conversation_id: str, form: MultiDict):
        as_association = form.get("from_association_id", "").strip()
        values = text_fields(form, ("body",)) | ({"from_association_id": as_association} if as_association else {})
        try:
            draft = parse(MessageDraft, values)
            self.messaging.post_message(
                caller_of(self, request), conversation_id, draft.model_dump(mode="json"), form_key(form)
            )
        except DiasporaHubError as exc:
            if isinstance(exc, Unauthenticated):
                raise
            return self.conversation(request, conversation_id, **refusal(exc))
        suffix = f"?as={as_association}" if as_association else ""
        return redirect(request, f"/conversations/{conversation_id}{suffix}#latest")
