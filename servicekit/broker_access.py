"""What each service's own RabbitMQ user may do, derived from the catalogue's names and contracts/topology.py.

RabbitMQ grants a user, per vhost, three regular expressions over exchange and queue names: `configure`
(declare, delete), `write` (publish to an exchange, bind a queue) and `read` (consume from a queue, bind to an
exchange); and per topic exchange, two over routing keys (`write`: publish, `read`: bind). A service may:

- on nameko's RPC exchange `nameko-rpc`: declare it, publish requests and replies, bind only its own request queue
  (`rpc-<service>`, key `<service>.*`) and its reply queues (keys are UUIDs): it cannot listen to others' requests;
- its own queues: `rpc-<service>`, its reply queues `rpc.reply-<user>-…`, its subscriptions' queues
  (`<service>.…` in contracts/topology.py) and their dead-letter queues;
- publish to its own event exchange `<service>.events` only, and bind its subscriptions to their publishers'
  exchanges (and to the dead-letter exchange) only.

- a broadcast's queues (`<queue>-<uuid>`, contracts.topology.BROADCASTS), bound to their publishers' exchanges with
  those events' routing keys only (a topic permission on each such exchange).

So the gateway, whose only broadcast is the association events it forgets kept public views by, can consume no
subscription's queue, hear no other event (an individual's), and publish no event of another service.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.topology import (
    BROADCASTS,
    DEAD_LETTER_EXCHANGE,
    SUBSCRIPTIONS,
    Broadcast,
    Subscription,
    events_exchange,
)

RPC_EXCHANGE = "nameko-rpc"
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class BrokerPermissions:
    configure: str
    write: str
    read: str
    topic_exchange: str
    topic_write: str
    topic_read: str
    # (exchange, routing keys it may bind with) for each publisher of its broadcasts; it may publish on none of them.
    event_topics: tuple[tuple[str, str], ...] = ()


def owner_of(subscription: Subscription | Broadcast) -> str:
    """The service consuming a subscription: its queue is named `<service>.<what>`."""
    return subscription.queue.partition(".")[0]


def _any_of(names: Iterable[str]) -> str:
    return "^(" + "|".join(names) + ")$"


def permissions_for(
    service: str,
    *,
    user: str | None = None,
    subscriptions: Iterable[Subscription] = SUBSCRIPTIONS,
    broadcasts: Iterable[Broadcast] = BROADCASTS,
) -> BrokerPermissions:
    """The permissions of `service`'s own broker user (named `user`, by default the service's name)."""
    user = user or service
    own = [subscription for subscription in subscriptions if owner_of(subscription) == service]
    heard = [broadcast for broadcast in broadcasts if owner_of(broadcast) == service]
    queues = [re.escape(name) for sub in own for name in (sub.queue, sub.dead_letter_queue)]
    queues += [re.escape(f"{broadcast.queue}-") + UUID_PATTERN for broadcast in heard]
    sources = sorted({re.escape(events_exchange(event.source)) for sub in [*own, *heard] for event in sub.events})
    broadcast_keys: dict[str, set[str]] = {}
    for broadcast in heard:
        for event in broadcast.events:
            broadcast_keys.setdefault(events_exchange(event.source), set()).add(re.escape(event.routing_key))
    reply_queues = r"rpc\.reply-(" + "|".join(sorted({re.escape(service), re.escape(user)})) + ")-.*"
    rpc = [re.escape(RPC_EXCHANGE), re.escape(f"rpc-{service}"), reply_queues]
    own_exchange = re.escape(events_exchange(service))
    dead_letters = [re.escape(DEAD_LETTER_EXCHANGE)] if own else []
    return BrokerPermissions(
        configure=_any_of([*rpc, own_exchange, *queues]),
        # A queue declared with a dead-letter exchange needs `write` on that exchange.
        write=_any_of([*rpc, own_exchange, *queues, *dead_letters]),
        # A queue declared with a dead-letter exchange also needs `read` on itself; binding, `read` on the exchange.
        read=_any_of([*rpc, *queues, *sources, *dead_letters]),
        topic_exchange=RPC_EXCHANGE,
        topic_write=".*",
        topic_read=_any_of([re.escape(f"{service}.") + r"\*", UUID_PATTERN]),
        event_topics=tuple((exchange, _any_of(sorted(keys))) for exchange, keys in sorted(broadcast_keys.items())),
    )
