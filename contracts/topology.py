"""Who listens to what on the bus, declared in one place.

Each subscription becomes a durable queue bound to the publishing service's
event exchange, with its own dead-letter queue. Declaring them all before any
service publishes means an event sent while its consumer is down waits in the
queue instead of being dropped.
"""

from dataclasses import dataclass

from contracts.advisories import ADVISORY_EVENTS, AdvisoryPublishedV1
from contracts.alerts import HELP_REQUEST_EVENTS, HelpRequestedV1, HelpRequestReleasedV1
from contracts.events import (
    ASSOCIATION_EVENTS,
    INDIVIDUAL_EVENTS,
    MESSAGING_EVENTS,
    AccountDeletedV1,
    DeliveryFailedV1,
    DeliverySentV1,
    EventEnvelope,
    IndividualDeletedV1,
    MembershipChangedV1,
)

DEAD_LETTER_EXCHANGE = "diasporahub.dead-letter"


def events_exchange(source: str) -> str:
    return f"{source}.events"


@dataclass(frozen=True)
class Subscription:
    queue: str
    events: tuple[type[EventEnvelope], ...]

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dead-letter"


SEARCH_INDEXER = Subscription(queue="search.index-associations", events=ASSOCIATION_EVENTS)
SEARCH_PEOPLE_INDEXER = Subscription(queue="search.index-individuals", events=INDIVIDUAL_EVENTS)

# With the account deletions that take admins away from associations, on the same queue so that they come after the
# association events they follow.
MESSAGING_DIRECTORY = Subscription(
    queue="messaging.directory-associations", events=(*ASSOCIATION_EVENTS, AccountDeletedV1)
)
MESSAGING_MEMBERSHIPS = Subscription(queue="messaging.directory-memberships", events=(MembershipChangedV1,))
# Messaging forgets how it reached a person as a member (their account's e-mail address and name) once they deleted
# their profile (and with it their account).
MESSAGING_PEOPLE = Subscription(queue="messaging.directory-people", events=(IndividualDeletedV1,))
# Messaging tells a message's sender in their inbox when a delivery of it failed for good.
MESSAGING_FAILED_DELIVERIES = Subscription(queue="messaging.failed-deliveries", events=(DeliveryFailedV1,))

# Alerts makes sure every request raised (or released by the Cell) reaches the associations near it, even when the
# request that raised it did not get that far (services/alerts/README.md: matching).
ALERTS_MATCHING = Subscription(queue="alerts.match-requests", events=(HelpRequestedV1, HelpRequestReleasedV1))
# Alerts finds and notifies an advisory's associations from its own event, retried until they are told.
ALERTS_ADVISORY_DELIVERY = Subscription(queue="alerts.deliver-advisories", events=(AdvisoryPublishedV1,))
# Alerts writes who was reached (or not) by a help request's notifications into its timeline.
ALERTS_DELIVERY_REPORTS = Subscription(queue="alerts.delivery-reports", events=(DeliverySentV1, DeliveryFailedV1))
# Alerts keeps where people live (and their memberships) to know who is in an advisory's area.
ALERTS_PEOPLE = Subscription(queue="alerts.advisory-people", events=INDIVIDUAL_EVENTS)

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    SEARCH_INDEXER,
    SEARCH_PEOPLE_INDEXER,
    MESSAGING_DIRECTORY,
    MESSAGING_MEMBERSHIPS,
    MESSAGING_PEOPLE,
    MESSAGING_FAILED_DELIVERIES,
    ALERTS_MATCHING,
    ALERTS_ADVISORY_DELIVERY,
    ALERTS_DELIVERY_REPORTS,
    ALERTS_PEOPLE,
)


@dataclass(frozen=True)
class Broadcast:
    """Events that every process of a service hears, each on a queue of its own (`<queue>-<uuid>`, exclusive: the
    broker deletes it with the process's connection): for what a process keeps in memory, not for work to do once."""

    queue: str
    events: tuple[type[EventEnvelope], ...]


# Each gateway process forgets the public view it keeps of an association when the association changes
# (gateway/public_reads.py).
GATEWAY_PUBLIC_READS = Broadcast(queue="gateway.public-reads", events=ASSOCIATION_EVENTS)

BROADCASTS: tuple[Broadcast, ...] = (GATEWAY_PUBLIC_READS,)


# Every event each service publishes on its exchange, whether or not a subscription above listens to it yet (messaging's
# reports, decisions and sending blocks wait for one, an audit log say): what a new consumer may bind to.
PUBLISHED: dict[str, tuple[type[EventEnvelope], ...]] = {
    "registry": (*ASSOCIATION_EVENTS, *INDIVIDUAL_EVENTS, MembershipChangedV1, AccountDeletedV1),
    "messaging": MESSAGING_EVENTS,
    "alerts": (*HELP_REQUEST_EVENTS, *ADVISORY_EVENTS),
}


def subscription(queue: str) -> Subscription:
    for candidate in SUBSCRIPTIONS:
        if candidate.queue == queue:
            return candidate
    raise LookupError(f"no subscription for queue {queue!r}")
