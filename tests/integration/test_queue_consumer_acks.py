"""A queue consumer's acknowledgements (servicekit.queue_consumer) never cover a message still being handled: killed
while one event is being handled, a consumer gets that one again, and none of the events it had handled. Nor do they
acknowledge a message twice when a socket write yields (RabbitMQ would close the channel and give back everything
unacknowledged on it, carried out again)."""

import random
from collections import Counter

import eventlet
import pytest
from kombu import Connection
from kombu.message import Message
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.topology import SEARCH_INDEXER
from servicekit.bus import rpc_queue
from servicekit.consumer import event_consumer
from servicekit.rpc import rpc
from tests.integration.factories import association_event
from tests.integration.test_event_consumer import publish, wait_until

SLOW = "Slow Mizo Fellowship"


class Recorder:
    """Records each event it handles; the slow one waits for `release`, which a first container never sends."""

    name = "ack_recorder"
    handled: list = []
    release = eventlet.Event()

    @event_consumer(SEARCH_INDEXER)
    def record(self, event) -> None:
        if event.association.name == SLOW and not Recorder.release.ready():
            Recorder.release.wait()
        Recorder.handled.append(event.event_id)


@pytest.mark.parametrize("slow_position", [0, 3], ids=["slow-delivered-first", "slow-delivered-last"])
def test_a_killed_consumer_gets_again_only_the_event_it_was_handling(
    slow_position, amqp_uri, nameko_config, container_factory
):
    Recorder.handled, Recorder.release = [], eventlet.Event()
    quick = [association_event(name=f"Quick Mizo Fellowship {n}") for n in range(3)]
    slow = association_event(name=SLOW)
    events = [*quick[:slow_position], slow, *quick[slow_position:]]
    first = container_factory(Recorder, nameko_config)
    first.start()

    publish(amqp_uri, *events)
    wait_until(lambda: {event.event_id for event in quick} <= set(Recorder.handled))
    first.kill()

    Recorder.release.send()
    container_factory(Recorder, nameko_config).start()
    marker = association_event(name="Marker Mizo Fellowship")
    publish(amqp_uri, marker)  # after every event given back, which go first
    wait_until(lambda: marker.event_id in Recorder.handled)

    mine = [event_id for event_id in Recorder.handled if event_id in {event.event_id for event in events}]
    assert sorted(map(str, mine)) == sorted(str(event.event_id) for event in events)


class Worker:
    name = "ack_worker"
    carried_out: list = []

    @rpc
    def work(self, number: int, seconds: float) -> int:
        eventlet.sleep(seconds)
        Worker.carried_out.append(number)
        return number


def test_requests_are_carried_out_once_when_acknowledgements_wait_on_the_socket(
    amqp_uri, nameko_config, container_factory, monkeypatch
):
    acknowledge = Message.ack

    def acknowledge_after_a_blocked_write(message, multiple=False):
        eventlet.sleep(0.005)  # a socket write that would block yields to other greenthreads, flushes among them
        return acknowledge(message, multiple)

    monkeypatch.setattr(Message, "ack", acknowledge_after_a_blocked_write)
    Worker.carried_out = []
    container = container_factory(Worker, nameko_config)
    container.start()
    chooser = random.Random(1)
    with ClusterRpcProxy(nameko_config, timeout=30) as proxy:
        replies = [proxy.ack_worker.work.call_async(number, chooser.random() * 0.03) for number in range(600)]
        assert sorted(reply.result() for reply in replies) == list(range(600))
    container.kill()  # a request given back by a closed channel and not yet carried out again stays in the queue

    with Connection(amqp_uri) as connection:
        assert rpc_queue("ack_worker")(connection.default_channel).queue_declare(passive=True).message_count == 0
    assert {number for number, times in Counter(Worker.carried_out).items() if times > 1} == set()
