"""Messaging: conversations, broadcasts, inboxes, notification settings and deliveries.

Bodies are plain text or a small Markdown subset; the messaging service stores them as sent and renders them to
safe HTML (`html`). Sizes are limited here, so an oversized body is a 422 that names the limit.
"""

from functools import cache
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)

from contracts.associations import Category, CountryCode, LanguageCode

MAX_BODY_CHARACTERS = 10_000
MAX_PARTICIPANTS = 20

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY_CHARACTERS)]
Channel = Literal["inbox", "email", "webhook"]
DeliveryState = Literal["queued", "sent", "failed"]
Urgency = Literal["normal", "urgent"]
EmailMode = Literal["off", "immediate", "digest"]
TemplateLanguage = Literal["en", "lus"]
ReportStatus = Literal["open", "dismissed", "sender_blocked"]
# A client's key for one post, conversation or broadcast (the `Idempotency-Key` header): a retry with the same key
# gets what the first request made.
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]
DigestHour = Annotated[
    int, Field(ge=0, le=23, strict=True, description="The hour (0–23), in `time_zone`, the daily digest goes")
]


@cache
def _time_zones() -> frozenset[str]:
    """The tz database's zones, without the files that name no place (the machine's own `localtime`…)."""
    return frozenset(available_timezones() - {"localtime", "posixrules", "Factory"})


def _known_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"{name!r} is not a time zone of the tz database; write it like 'Asia/Kolkata' or 'UTC'")
    return name


TimeZone = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_known_time_zone),
    Field(description="A tz database name (`Asia/Kolkata`); unset: the main zone of the association's country"),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConversationDraft(_Request):
    """`from_association_id`: which association speaks, when the caller administers one or several; without it a
    person writes to one verified association (a contact form) and Cell staff speak for the Cell."""

    from_association_id: UUID | None = None
    participants: Annotated[list[UUID], Field(min_length=1, max_length=MAX_PARTICIPANTS)]
    subject: Subject
    body: Body
    share_contact: bool = False


class MessageDraft(_Request):
    from_association_id: UUID | None = None
    body: Body


class ConversationQuery(_Request):
    association_id: UUID | None = None
    archived: bool = False


class InboxQuery(_Request):
    association_id: UUID | None = None
    unread: bool = False


class Report(_Request):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class ReportQuery(_Request):
    status: ReportStatus | None = None


class ReportDecision(_Request):
    """The Cell's decision on a report: dismiss it, or block the sending association (as the messaging-blocks
    route does) and close it."""

    decision: Literal["dismiss", "block_sender"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class Audience(_Request):
    """The Cell chooses associations by country, language and category (none: every verified association); a
    federation names itself in `branches_of`; an association names itself in `members_of`."""

    countries: Annotated[list[CountryCode], Field(max_length=250)] = []
    languages: Annotated[list[LanguageCode], Field(max_length=50)] = []
    categories: Annotated[list[Category], Field(max_length=50)] = []
    branches_of: UUID | None = None
    members_of: UUID | None = None


class BroadcastDraft(_Request):
    from_association_id: UUID | None = None
    audience: Audience = Audience()
    subject: Subject
    body: Body


class Party(BaseModel):
    """Who takes part: an association, an account (a person, or a Cell staff member), a person as a member
    (`individual`), another service (`service`, for notifications), or the Mizo Diaspora Cell as a whole (`cell`:
    the shared inbox every Cell staff account reads)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["association", "account", "individual", "service", "cell"]
    id: UUID
    name: str = ""


class MessageV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    conversation_id: UUID | None = None
    broadcast_id: UUID | None = None
    sender: Party
    body: str
    html: str
    posted_at: AwareDatetime
    contact: str | None = None


class ConversationV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    subject: str
    participants: list[Party]
    started_at: AwareDatetime
    last_message_at: AwareDatetime
    archived: bool = False
    messages: list[MessageV1] = []


class ConversationList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[ConversationV1]


class InboxItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: UUID
    recipient: Party
    kind: Literal["message", "broadcast", "notification"]
    conversation_id: UUID | None = None
    broadcast_id: UUID | None = None
    subject: str
    sender: Party
    html: str
    received_at: AwareDatetime
    read_at: AwareDatetime | None = None


class Inbox(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[InboxItem]
    unread: int


class ChannelCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    queued: int = 0
    sent: int = 0
    failed: int = 0


class BroadcastV1(BaseModel):
    """What the sender sees: how many recipients, delivered per channel, read, failed."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    message_id: UUID
    subject: str
    sender: Party
    sent_at: AwareDatetime
    recipients: int
    read: int
    delivered: dict[str, ChannelCounts]
    failed: int


class NotificationSettings(_Request):
    """How an association is reached besides its in-app inbox (always on). `email` empty: its public address.
    `webhook_secret` is only ever shown once, when the webhook is set (`whsec_…`). The digest goes at
    `digest_hour` (07 unless set) in `time_zone` (unless set, the main zone of the association's country)."""

    email_mode: EmailMode = "immediate"
    email: EmailStr | None = None
    language: TemplateLanguage = "en"
    webhook_url: HttpUrl | None = None
    digest_hour: DigestHour = 7
    time_zone: TimeZone | None = None


class NotificationSettingsV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    association_id: UUID
    email_mode: EmailMode
    email: str | None
    language: TemplateLanguage
    webhook_url: str | None
    webhook_secret: str | None = None
    digest_hour: int = 7
    time_zone: str = "UTC"


class MemberNotificationSettings(_Request):
    """How a person hears of their associations' broadcasts to members besides the inbox (always on): e-mail to
    their account's address only if they choose it (`immediate` or `digest`)."""

    email_mode: EmailMode = "off"
    language: TemplateLanguage = "en"
    digest_hour: DigestHour = 7
    time_zone: TimeZone | None = None


class MemberNotificationSettingsV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    individual_id: UUID
    email_mode: EmailMode
    email: str
    language: TemplateLanguage
    digest_hour: int = 7
    time_zone: str | None = Field(default=None, description="Unset: the main zone of the writing association's country")


class DeliveryQuery(_Request):
    state: DeliveryState | None = None


class DeliveryV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    message_id: UUID
    channel: Literal["email", "webhook"]
    state: DeliveryState
    attempts: int
    next_attempt_at: AwareDatetime | None = None
    last_error: str | None = None
    sent_at: AwareDatetime | None = None
    created_at: AwareDatetime


class DeliveryList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[DeliveryV1]


class NotifyRequest(_Request):
    """From another service (alerts): associations (`recipients`), people (`individuals`, individual ids: their
    inbox, and e-mail if they chose it) and the Cell (`cell`: its shared inbox, which every Cell staff account
    reads, and its duty mailbox `MESSAGING_CELL_EMAIL`) to reach now, at least one; `urgent` skips e-mail digests.
    `once_key`: a notification sent again with the same key by the same service (a retry after its answer was
    lost) reaches nobody again; the first one's receipt comes back."""

    recipients: Annotated[list[UUID], Field(max_length=5000)] = []
    individuals: Annotated[list[UUID], Field(max_length=5000)] = []
    cell: bool = False
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    subject: Subject
    body: Body
    reference: Annotated[str, StringConstraints(max_length=200)] | None = None
    urgency: Urgency = "normal"
    once_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _someone(self) -> "NotifyRequest":
        if not self.recipients and not self.individuals and not self.cell:
            raise ValueError("recipients: name at least one association (or individual, or the Cell) to reach")
        return self


class NotificationReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    recipients: int


class DirectoryRebuild(BaseModel):
    """How many associations and memberships messaging read from the registry."""

    model_config = ConfigDict(frozen=True)

    associations: int
    memberships: int


class ReportV1(BaseModel):
    """A recipient's report of a message, for the Cell, with its decision once taken."""

    model_config = ConfigDict(frozen=True)

    id: int
    message_id: UUID
    subject: str
    sender: Party
    reporter: Party
    reason: str
    reported_at: AwareDatetime
    status: ReportStatus = "open"
    decided_at: AwareDatetime | None = None
    decision_reason: str | None = None


class ReportList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[ReportV1]


class ReportStatusV1(BaseModel):
    """What the reporter sees of their report: open until the Cell decides."""

    model_config = ConfigDict(frozen=True)

    id: int
    message_id: UUID
    subject: str
    reason: str
    reported_at: AwareDatetime
    status: ReportStatus
    decided_at: AwareDatetime | None = None


class ReportStatusList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[ReportStatusV1]


class SendingBlock(_Request):
    """The Cell stops (or lets again) an association send messages and broadcasts."""

    blocked: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class SendingBlockV1(BaseModel):
    model_config = ConfigDict(frozen=True)

    association_id: UUID
    blocked: bool
    reason: str
    changed_at: AwareDatetime
