"""Acknowledgements that go together (servicekit.queue_consumer) never cover a message still being handled: killed
while one event is being handled, a consumer gets that one again, and none of the events it had handled."""

import eventlet
import pytest

from contracts.topology import SEARCH_INDEXER
from servicekit.consumer import event_consumer
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
