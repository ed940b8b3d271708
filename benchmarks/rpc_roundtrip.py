from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# Latency of sequential no-op RPCs through nameko, against raw kombu request-reply round
# trips on the same broker. The callees (a service on nameko's `rpc`, one on servicekit's
# `rpc`, and the kombu responder) run together in a child process, as services run apart
# from their callers in production. Callers are standalone clients, and a caller service
# (RelayService, in this process) that times the calls its worker makes through nameko's
# RpcProxy and through servicekit's TimedRpcProxy. Everything happens in a fresh RabbitMQ
# vhost, made through the management API and deleted at the end. It prints figures and
# asserts nothing.
#
#     .venv/bin/python benchmarks/rpc_roundtrip.py --calls 2000

import argparse  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager, suppress  # noqa: E402

import eventlet  # noqa: E402
from kombu import Connection, Consumer, Exchange, Producer, Queue  # noqa: E402
from nameko import rpc as nameko_rpc  # noqa: E402
from nameko.rpc import get_rpc_exchange  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402

from servicekit import rpc as servicekit_rpc  # noqa: E402
from servicekit.rpc_client import RpcClient  # noqa: E402
from servicekit.settings import BusSettings  # noqa: E402

WARM_UP_CALLS = 100
# Variants take turns in rounds of this many calls, so a burst of load on the
# machine falls on all of them rather than on whichever ran at that moment.
ROUND_CALLS = 100
CALL_TIMEOUT_SECONDS = 5.0
RESPONDERS_READY = "responders ready"


class NoopService:
    """The callee, on nameko's own `rpc` entrypoint."""

    name = "noop_bench"

    @nameko_rpc.rpc
    def noop(self):
        return None


class FastNoopService:
    """The callee, on servicekit's `rpc` entrypoint."""

    name = "noop_fast_bench"

    @servicekit_rpc.rpc
    def noop(self):
        return None


class RelayService:
    """A caller service: times calls made inside one worker, as the gateway makes them.

    It runs in the benchmark's own process, apart from the callees.
    """

    name = "relay_bench"

    nameko_proxy = nameko_rpc.RpcProxy(NoopService.name)
    timed_proxy = servicekit_rpc.TimedRpcProxy(FastNoopService.name)

    @servicekit_rpc.rpc
    def time_calls(self, proxy: str, calls: int) -> list[float]:
        return timed_calls_ms(getattr(self, proxy).noop, calls)


class KombuResponder:
    """Answers each request on its queue with an empty reply, as a bare kombu service would."""

    request_queue_name = "kombu_bench_requests"

    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri)
        channel = self.connection.channel()
        self.producer = Producer(channel)
        # Consuming before the first request is sent, so none is published to a missing queue.
        Consumer(
            channel,
            queues=[Queue(self.request_queue_name, auto_delete=True)],
            callbacks=[self.on_request],
        ).consume()
        self.stopping = False

    def on_request(self, body, message) -> None:
        self.producer.publish(
            None,
            routing_key=message.properties["reply_to"],
            correlation_id=message.properties["correlation_id"],
        )
        message.ack()

    def serve(self) -> None:
        while not self.stopping:
            with suppress(TimeoutError):
                self.connection.drain_events(timeout=0.2)
        self.connection.release()


def serve_responders(amqp_uri: str) -> None:
    """The child process: both responders until SIGTERM."""
    runner = ServiceRunner({"AMQP_URI": amqp_uri})
    runner.add_service(NoopService)
    runner.add_service(FastNoopService)
    runner.start()
    responder = KombuResponder(amqp_uri)
    serving = eventlet.spawn(responder.serve)
    stopping = eventlet.event.Event()

    def request_stop(_signum, _frame):
        if not stopping.ready():
            stopping.send()

    signal.signal(signal.SIGTERM, request_stop)
    print(RESPONDERS_READY, flush=True)
    stopping.wait()
    responder.stopping = True
    serving.wait()
    runner.stop()


@contextmanager
def responders_in_child_process(amqp_uri: str) -> Iterator[None]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--amqp-uri", amqp_uri],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with eventlet.Timeout(30):
            first_line = child.stdout.readline().strip()
        if first_line != RESPONDERS_READY:
            raise RuntimeError("the responders' process did not start; see its error above")
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class KombuCaller:
    """Publishes a request and reads its own reply queue until the matching correlation id."""

    def __init__(self, amqp_uri: str, exchange: Exchange, routing_key: str):
        self.connection = Connection(amqp_uri)
        channel = self.connection.channel()
        self.producer = Producer(channel, exchange=exchange)
        self.routing_key = routing_key
        # Bound to nameko's exchange under its own name, so both a nameko service (which
        # replies there) and the kombu responder (which replies through the default
        # exchange) reach it with reply_to set to the queue's name.
        reply_queue_name = f"kombu_bench_replies_{uuid.uuid4().hex}"
        self.reply_queue = Queue(
            reply_queue_name,
            exchange=get_rpc_exchange({}),
            routing_key=reply_queue_name,
            exclusive=True,
        )
        Consumer(channel, queues=[self.reply_queue], callbacks=[self.on_reply], no_ack=True).consume()
        self.replies: dict[str, object] = {}

    def on_reply(self, body, message) -> None:
        self.replies[message.properties["correlation_id"]] = body

    def call(self) -> object:
        correlation_id = uuid.uuid4().hex
        self.producer.publish(
            {"args": [], "kwargs": {}},
            routing_key=self.routing_key,
            reply_to=self.reply_queue.name,
            correlation_id=correlation_id,
        )
        while correlation_id not in self.replies:
            self.connection.drain_events(timeout=CALL_TIMEOUT_SECONDS)
        return self.replies.pop(correlation_id)

    def close(self) -> None:
        self.connection.release()


def timed_calls_ms(call: Callable[[], object], calls: int) -> list[float]:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def one_by_one(call: Callable[[], object]) -> Callable[[int], list[float]]:
    """A variant timed here, call by call."""
    return lambda calls: timed_calls_ms(call, calls)


def measure(variants: dict[str, Callable[[int], list[float]]], calls: int) -> dict[str, list[float]]:
    """Each variant is a function that makes a number of calls and returns their latencies."""
    for timed_batch in variants.values():
        timed_batch(WARM_UP_CALLS)
    latencies: dict[str, list[float]] = {name: [] for name in variants}
    for round_start in range(0, calls, ROUND_CALLS):
        round_calls = min(ROUND_CALLS, calls - round_start)
        for name, timed_batch in variants.items():
            latencies[name].extend(timed_batch(round_calls))
    return latencies


def run(amqp_uri: str, calls: int) -> dict[str, list[float]]:
    with ExitStack() as cleanup:
        cleanup.enter_context(responders_in_child_process(amqp_uri))
        relay_runner = ServiceRunner({"AMQP_URI": amqp_uri})
        relay_runner.add_service(RelayService)
        relay_runner.start()
        cleanup.callback(relay_runner.stop)
        cluster = cleanup.enter_context(ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=CALL_TIMEOUT_SECONDS))
        client = cleanup.enter_context(RpcClient(BusSettings(amqp_uri=amqp_uri), timeout_seconds=CALL_TIMEOUT_SECONDS))
        kombu_to_nameko = KombuCaller(amqp_uri, get_rpc_exchange({}), routing_key=f"{NoopService.name}.noop")
        cleanup.callback(kombu_to_nameko.close)
        kombu_to_kombu = KombuCaller(amqp_uri, Exchange(""), routing_key=KombuResponder.request_queue_name)
        cleanup.callback(kombu_to_kombu.close)

        def inside_relay(proxy: str) -> Callable[[int], list[float]]:
            """Timed inside one RelayService worker; reaching that worker is not counted."""
            return lambda calls: client.call(RelayService.name, "time_calls", proxy, calls)

        return measure(
            {
                "nameko ClusterRpcProxy -> nameko rpc": one_by_one(cluster[NoopService.name].noop),
                "RpcClient -> nameko rpc": one_by_one(lambda: client.call(NoopService.name, "noop")),
                "RpcClient -> servicekit rpc": one_by_one(lambda: client.call(FastNoopService.name, "noop")),
                "in a service: nameko RpcProxy -> nameko rpc": inside_relay("nameko_proxy"),
                "in a service: TimedRpcProxy -> servicekit rpc": inside_relay("timed_proxy"),
                # The least any caller can take against a nameko service: the rest is the service's.
                "raw kombu -> nameko rpc": one_by_one(kombu_to_nameko.call),
                "raw kombu": one_by_one(kombu_to_kombu.call),
            },
            calls,
        )


def percentile(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]


def report(latencies: dict[str, list[float]], calls: int) -> None:
    print(f"{calls} sequential no-op calls per variant, after {WARM_UP_CALLS} warm-up calls")
    for name, figures in latencies.items():
        print(f"  {name:<46} p50 {percentile(figures, 50):6.3f} ms   p99 {percentile(figures, 99):6.3f} ms")
    kombu = latencies["raw kombu"]
    for name, figures in latencies.items():
        if figures is kombu:
            continue
        print(
            f"  {name + ' / raw kombu:':<58}"
            f" p50 x{percentile(figures, 50) / percentile(kombu, 50):.2f},"
            f" p99 x{percentile(figures, 99) / percentile(kombu, 99):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Latency of no-op RPCs through nameko against raw kombu request-reply."
    )
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per variant")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument(
        "--management-url",
        default="http://127.0.0.1:15672",
        help="RabbitMQ management API, used to make and delete the run's vhost",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="only run the responders at --amqp-uri (the benchmark's own child process)",
    )
    args = parser.parse_args()
    if args.serve:
        serve_responders(args.amqp_uri)
        return

    with ScratchVhost(args.amqp_uri, args.management_url, "rpc_roundtrip") as vhost:
        latencies = run(vhost.amqp_uri, args.calls)
    report(latencies, args.calls)


if __name__ == "__main__":
    main()
