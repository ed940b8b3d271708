"""The registry's association events, heard by every gateway process, to forget kept public views and searches.

Each gateway process binds a queue of its own (`gateway.public-reads-<uuid>`, exclusive: the broker deletes it
with the connection) to `registry.events` for the association events only (contracts.topology.GATEWAY_PUBLIC_READS;
the gateway's broker user may bind nothing else there, servicekit/broker_access.py). Hearing an event only
forgets: a repeat or a late one changes nothing, so no acknowledgement or record of handled events is needed.
While the connection is down the cache serves nothing (gateway/public_reads.py), since events sent meanwhile are
not heard; it serves again once a new queue is bound, with nothing kept from before. After RabbitMQ restarts the
exclusive queue is gone with the connection: the listener connects again (with backoff) and binds a new one. Opening
is given up after OPEN_TIMEOUT_SECONDS, as servicekit.rpc_connection's is: a broker that takes the connection but
does not answer (starting up) would otherwise hold the listener, and the cache would never serve again.
"""

import logging
import uuid
from contextlib import suppress

import eventlet
from kombu import Connection, Consumer, Exchange, Queue, binding
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, HEARTBEAT_CONFIG_KEY

from contracts.topology import GATEWAY_PUBLIC_READS, events_exchange
from gateway.public_reads import PublicReadCache, PublicReads, association_key
from servicekit.rpc_connection import CONNECTION_ERRORS, BrokerNotAnswering

log = logging.getLogger(__name__)
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
HEARTBEAT_SECONDS = 30
TICK_SECONDS = 1.0
OPEN_TIMEOUT_SECONDS = 5.0


def changes_queue() -> Queue:
    return Queue(
        f"{GATEWAY_PUBLIC_READS.queue}-{uuid.uuid4()}",
        # The registry's exchange is declared by `prepare`; the gateway's user may only bind to it.
        bindings=[
            binding(
                Exchange(events_exchange(event.source), type="topic", no_declare=True), routing_key=event.routing_key
            )
            for event in GATEWAY_PUBLIC_READS.events
        ],
        exclusive=True,
        auto_delete=True,
    )


def forget_changed(cache: PublicReadCache, body: object) -> None:
    """The association an event is about, the one a merge kept, and every kept search (a new, changed or hidden
    association can change any result) are forgotten; an event that cannot be read still forgets the searches."""
    cache.forget_searches()
    if not isinstance(body, dict):
        return
    cache.forget(*(association_key(body.get(field) or "") for field in ("aggregate_id", "kept_id")))


class AssociationChanges(PublicReads):
    """PublicReads with the listener that keeps it fresh, in a managed greenthread of the gateway's container."""

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.connection_params = {
            "hostname": config[AMQP_URI_CONFIG_KEY],
            "ssl": config.get(AMQP_SSL_CONFIG_KEY),
            "heartbeat": config.get(HEARTBEAT_CONFIG_KEY, HEARTBEAT_SECONDS),
            "connect_timeout": OPEN_TIMEOUT_SECONDS,
            "transport_options": {"client_properties": {"connection_name": "gateway public reads"}},
        }
        self.listener = None

    def start(self) -> None:
        if self.cache.seconds > 0 or self.cache.search_seconds > 0:
            self.listener = self.container.spawn_managed_thread(self.listen, identifier="AssociationChanges.listen")

    def stop(self) -> None:
        self.cache.serving = False
        if self.listener is not None:
            self.listener.kill()
            self.listener = None

    def kill(self) -> None:
        self.stop()

    def listen(self) -> None:
        attempt = 0
        while True:
            try:
                self.listen_once()
            except CONNECTION_ERRORS as exc:
                log.warning("association events not heard (%s): public reads go to the registry", exc)
            except Exception:  # an error in a managed thread would kill the gateway
                log.exception("association events not heard: public reads go to the registry")
            attempt = 0 if self.cache.serving else attempt + 1
            self.cache.serving = False
            self.cache.forget_all()
            eventlet.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])

    def listen_once(self) -> None:
        with Connection(**self.connection_params) as connection:
            not_answering = BrokerNotAnswering(f"RabbitMQ did not open a connection within {OPEN_TIMEOUT_SECONDS:g} s")
            with eventlet.Timeout(OPEN_TIMEOUT_SECONDS, not_answering):
                Consumer(
                    connection.channel(),
                    queues=[changes_queue()],
                    callbacks=[lambda body, _message: forget_changed(self.cache, body)],
                    on_decode_error=lambda _message, exc: log.warning("dropped an undecodable event: %s", exc),
                    accept=["json"],
                    no_ack=True,
                ).consume()
            # Consuming until the connection breaks; closing it ends the consumer and deletes the queue.
            self.cache.forget_all()
            self.cache.serving = True
            log.info("hearing association events: public reads are kept")
            while True:
                with suppress(TimeoutError):
                    connection.drain_events(timeout=TICK_SECONDS)
                connection.heartbeat_check()
