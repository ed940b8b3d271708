"""Acknowledgements waiting to go together (servicekit.queue_consumer) go before the consuming thread closes its
connection, whoever ends consuming. nameko's pytest plugin sets `should_stop` on every consumer before the test's
containers are killed: a request answered just before then was left unacknowledged, and the next test's container
on the queue carried it out again (test_answered_requests: a sign-up written again in the next test's database)."""

from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from servicekit import queue_consumer
from servicekit.bus import rpc_queue
from servicekit.queue_consumer import ResilientQueueConsumer
from servicekit.rpc import rpc


class Recorder:
    name = "ack_on_stop"
    carried_out: list = []

    @rpc
    def work(self, number: int) -> int:
        Recorder.carried_out.append(number)
        return number


def consumer_of(container) -> ResilientQueueConsumer:
    return next(extension for extension in container.subextensions if isinstance(extension, ResilientQueueConsumer))


def test_a_request_answered_before_consuming_ends_is_not_carried_out_again(
    amqp_uri, nameko_config, container_factory, monkeypatch
):
    monkeypatch.setattr(queue_consumer, "ACK_WINDOW_SECONDS", 3600)  # the acknowledgement still waits at the end
    Recorder.carried_out = []
    first = container_factory(Recorder, nameko_config)
    first.start()
    with ClusterRpcProxy(nameko_config, timeout=30) as proxy:
        assert proxy.ack_on_stop.work(1) == 1

    consumer = consumer_of(first)
    consumer.should_stop = True  # as nameko's pytest plugin does at teardown, before the container is killed
    consumer._gt.wait()  # the consuming thread has closed its connection, as other teardowns let it before the kill
    first.kill()
    with Connection(amqp_uri) as connection:
        assert rpc_queue("ack_on_stop")(connection.default_channel).queue_declare(passive=True).message_count == 0

    container_factory(Recorder, nameko_config).start()
    with ClusterRpcProxy(nameko_config, timeout=30) as proxy:
        assert proxy.ack_on_stop.work(2) == 2  # after the request given back, if any: it would come first
    assert Recorder.carried_out == [1, 2]
