"""Events the services publish, each in an envelope and versioned in its name.

Association and individual events carry the whole public snapshot after the
change, so a consumer needs no other call and can keep the newest version.
"""

from typing import ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.associations import AssociationV1
from contracts.individuals import IndividualProfileV1, MembershipV1


class EventEnvelope(BaseModel):
    """Every event carries who it is about and which version of that aggregate it describes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: ClassVar[str]
    routing_key: ClassVar[str]

    event_id: UUID
    occurred_at: AwareDatetime
    aggregate_id: UUID
    aggregate_version: int = Field(ge=1)


class AssociationEvent(EventEnvelope):
    source = "registry"

    association: AssociationV1
    actor_account_id: UUID | None = None
    admin_account_ids: list[UUID] | None = None
    """Who administers the association after the change; None when the event does not say (then it is unchanged)."""


class AssociationRegisteredV1(AssociationEvent):
    routing_key = "association_registered.v1"


class AssociationUpdatedV1(AssociationEvent):
    routing_key = "association_updated.v1"

    changed_fields: list[str] = []


class AssociationVerifiedV1(AssociationEvent):
    routing_key = "association_verified.v1"


class AssociationRejectedV1(AssociationEvent):
    routing_key = "association_rejected.v1"


class AssociationSuspendedV1(AssociationEvent):
    routing_key = "association_suspended.v1"


class AssociationMergedV1(AssociationEvent):
    """`association` is the merged one (now pointing at `kept_id`)."""

    routing_key = "association_merged.v1"

    kept_id: UUID


class AssociationDissolvedV1(AssociationEvent):
    routing_key = "association_dissolved.v1"


class IndividualEvent(EventEnvelope):
    source = "registry"


class IndividualRegisteredV1(IndividualEvent):
    routing_key = "individual_registered.v1"

    individual: IndividualProfileV1


class IndividualUpdatedV1(IndividualEvent):
    routing_key = "individual_updated.v1"

    individual: IndividualProfileV1


class IndividualDeletedV1(IndividualEvent):
    routing_key = "individual_deleted.v1"


class MembershipChangedV1(EventEnvelope):
    """The aggregate is the membership; `individual` is the individual's profile after the change, if any."""

    source = "registry"
    routing_key = "membership_changed.v1"

    membership: MembershipV1
    individual: IndividualProfileV1 | None = None


class AccountDeletedV1(EventEnvelope):
    """An account deleted itself (with its profile, if it had one: `individual_deleted.v1` says so too). The aggregate
    is the account. `administered`: the associations it was an admin of, which it is no longer (the associations
    stay, with their other admins)."""

    source = "registry"
    routing_key = "account_deleted.v1"

    administered: list[UUID] = []


class MessagingEvent(EventEnvelope):
    source = "messaging"


class ConversationStartedV1(MessagingEvent):
    """The aggregate is the conversation."""

    routing_key = "conversation_started.v1"

    subject: str
    participants: list[str]  # "association:<id>", "account:<id>"


class MessagePostedV1(MessagingEvent):
    """The aggregate is the conversation; `aggregate_version` counts its messages."""

    routing_key = "message_posted.v1"

    message_id: UUID
    sender: str
    recipients: list[str]


class BroadcastSentV1(MessagingEvent):
    """The aggregate is the broadcast (or a notification another service asked for)."""

    routing_key = "broadcast_sent.v1"

    message_id: UUID
    sender: str
    recipients: int
    reference: str | None = None


class DeliverySentV1(MessagingEvent):
    """The aggregate is the delivery; `recipient` is "association:<id>"; `reference` is the notifier's. Published
    for the deliveries of `notify` (those with a reference); a conversation's or broadcast's are counted instead."""

    routing_key = "delivery_sent.v1"

    message_id: UUID
    recipient: str
    channel: str
    attempts: int
    reference: str | None = None


class DeliveryFailedV1(MessagingEvent):
    """A delivery that stopped being retried: its window passed."""

    routing_key = "delivery_failed.v1"

    message_id: UUID
    recipient: str
    channel: str
    attempts: int
    error: str
    reference: str | None = None


# Reports are numbered in messaging's API; as aggregates of events they need a UUID, the same for every event of one.
_REPORTS = UUID("6f1d3b52-8f0e-4f0b-9a52-3c1e2d7b9e41")


def report_aggregate_id(report_id: int) -> UUID:
    return uuid5(_REPORTS, str(report_id))


class MessageReportedV1(MessagingEvent):
    """A recipient reported a message to the Cell. The aggregate is the report (`report_id` is its number in the API);
    version 1. The reporter's reason stays in messaging, for the Cell to read there."""

    routing_key = "message_reported.v1"

    report_id: int
    message_id: UUID
    reporter: str
    sender: str


class ReportDecidedV1(MessagingEvent):
    """The Cell decided a report (a later decision replaces an earlier one); the aggregate is the report."""

    routing_key = "report_decided.v1"

    report_id: int
    message_id: UUID
    status: Literal["dismissed", "sender_blocked"]
    decided_by: UUID


class SendingBlockEvent(MessagingEvent):
    """The aggregate is the association's sending block; `aggregate_version` counts its changes."""

    association_id: UUID
    reason: str
    changed_by: UUID


class SendingBlockedV1(SendingBlockEvent):
    """The Cell stopped an association from starting conversations, posting and broadcasting."""

    routing_key = "sending_blocked.v1"


class SendingUnblockedV1(SendingBlockEvent):
    """The Cell let an association send again."""

    routing_key = "sending_unblocked.v1"


MESSAGING_EVENTS: tuple[type[MessagingEvent], ...] = (
    ConversationStartedV1,
    MessagePostedV1,
    BroadcastSentV1,
    DeliverySentV1,
    DeliveryFailedV1,
    MessageReportedV1,
    ReportDecidedV1,
    SendingBlockedV1,
    SendingUnblockedV1,
)

ASSOCIATION_EVENTS: tuple[type[AssociationEvent], ...] = (
    AssociationRegisteredV1,
    AssociationUpdatedV1,
    AssociationVerifiedV1,
    AssociationRejectedV1,
    AssociationSuspendedV1,
    AssociationMergedV1,
    AssociationDissolvedV1,
)
INDIVIDUAL_EVENTS: tuple[type[IndividualEvent], ...] = (
    IndividualRegisteredV1,
    IndividualUpdatedV1,
    IndividualDeletedV1,
)
