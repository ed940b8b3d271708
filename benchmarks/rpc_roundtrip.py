from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

"""Latency of a no-op RPC through nameko against a raw kombu request-reply on the same broker.

    python benchmarks/rpc_roundtrip.py --calls 2000

Runs in a fresh RabbitMQ vhost, made through the management API and deleted at the end.
"""

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from urllib.parse import quote, urlsplit, urlunsplit  # noqa: E402

import eventlet  # noqa: E402
import requests  # noqa: E402
from kombu import Connection, Consumer, Producer, Queue  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

WARM_UP_CALLS = 100


class NoopService:
    name = "noop_bench"

    @rpc
    def noop(self):
        return None


class KombuResponder:
    """Answers every request on its queue with an empty reply, as a bare kombu service would."""

    request_queue_name = "kombu_bench_requests"

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri)
        self.stopping = False

    def run(self) -> None:
        channel = self.connection.channel()
        producer = Producer(channel)
        request_queue = Queue(self.request_queue_name, auto_delete=True, channel=channel)
        request_queue.declare()

        def on_request(body, message):
            producer.publish(
                None,
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties["correlation_id"],
            )
            message.ack()

        with Consumer(channel, queues=[request_queue], callbacks=[on_request]):
            while not self.stopping:
                try:
                    self.connection.drain_events(timeout=0.5)
                except TimeoutError:
                    pass
        self.connection.release()


class KombuCaller:
    """Publishes a request and waits for the reply with its correlation id on its own queue."""

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri)
        channel = self.connection.channel()
        self.producer = Producer(channel)
        self.reply_queue = Queue(f"kombu_bench_replies_{uuid.uuid4().hex}", exclusive=True)
        self.replies: dict[str, object] = {}
        self.consumer = Consumer(
            channel, queues=[self.reply_queue], callbacks=[self.on_reply], no_ack=True
        )
        self.consumer.consume()

    def on_reply(self, body, message):
        self.replies[message.properties["correlation_id"]] = body

    def call(self) -> object:
        correlation_id = uuid.uuid4().hex
        self.producer.publish(
            {"args": [], "kwargs": {}},
            routing_key=KombuResponder.request_queue_name,
            reply_to=self.reply_queue.name,
            correlation_id=correlation_id,
        )
        while correlation_id not in self.replies:
            self.connection.drain_events(timeout=5)
        return self.replies.pop(correlation_id)

    def close(self) -> None:
        self.connection.release()


class ScratchVhost:
    """A RabbitMQ vhost that exists only for one run, so the benchmark touches nothing else."""

    def __init__(self, amqp_uri: str, management_url: str):
        parts = urlsplit(amqp_uri)
        self.amqp_uri = amqp_uri
        self.user = parts.username or "guest"
        self.auth = (self.user, parts.password or "guest")
        self.management_url = management_url.rstrip("/")
        self.name = f"rpc_roundtrip_{uuid.uuid4().hex[:8]}"

    @property
    def vhost_url(self) -> str:
        return f"{self.management_url}/api/vhosts/{quote(self.name, safe='')}"

    @property
    def uri(self) -> str:
        parts = urlsplit(self.amqp_uri)
        return urlunsplit(parts._replace(path="/" + quote(self.name, safe="")))

    def create(self) -> None:
        requests.put(self.vhost_url, auth=self.auth, timeout=10).raise_for_status()
        permissions_url = (
            f"{self.management_url}/api/permissions/{quote(self.name, safe='')}/{self.user}"
        )
        requests.put(
            permissions_url,
            json={"configure": ".*", "write": ".*", "read": ".*"},
            auth=self.auth,
            timeout=10,
        ).raise_for_status()

    def delete(self) -> None:
        requests.delete(self.vhost_url, auth=self.auth, timeout=10).raise_for_status()


def latencies_ms(call: Callable[[], object], calls: int) -> list[float]:
    for _ in range(WARM_UP_CALLS):
        call()
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(latencies: list[float], fraction: float) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[round(fraction * 100) - 1]


def measure(amqp_uri: str, calls: int) -> dict[str, list[float]]:
    runner = ServiceRunner({"AMQP_URI": amqp_uri})
    runner.add_service(NoopService)
    runner.start()
    responder = KombuResponder(amqp_uri)
    responder_thread = eventlet.spawn(responder.run)
    results = {}
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}) as cluster:
            results["nameko ClusterRpcProxy"] = latencies_ms(cluster[NoopService.name].noop, calls)
        eventlet.sleep(0.1)  # the responder declares its queue in its own green thread
        caller = KombuCaller(amqp_uri)
        try:
            results["raw kombu"] = latencies_ms(caller.call, calls)
        finally:
            caller.close()
    finally:
        responder.stopping = True
        responder_thread.wait()
        runner.stop()
    return results


def report(results: dict[str, list[float]]) -> None:
    for variant, latencies in results.items():
        p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        print(f"{variant:<28} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    kombu = results["raw kombu"]
    for variant, latencies in results.items():
        if latencies is kombu:
            continue
        p50_ratio = percentile(latencies, 0.50) / percentile(kombu, 0.50)
        p99_ratio = percentile(latencies, 0.99) / percentile(kombu, 0.99)
        print(f"{variant} / raw kombu: p50 x{p50_ratio:.2f}, p99 x{p99_ratio:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per variant")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--management-url", default="http://127.0.0.1:15672")
    args = parser.parse_args(argv)

    vhost = ScratchVhost(args.amqp_uri, args.management_url)
    vhost.create()
    try:
        results = measure(vhost.uri, args.calls)
    finally:
        vhost.delete()
    print(f"{args.calls} sequential no-op calls each, after {WARM_UP_CALLS} warm-up calls")
    report(results)


if __name__ == "__main__":
    main()
