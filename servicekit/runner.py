"""Runs one service in this process: `python -m servicekit.runner services.registry.service:RegistryService`.

Each service runs in its own process, as in production; `diasporahub run`
starts one of these per service.

SIGTERM stops it gracefully: it takes no new requests or events and lets the work in flight finish (RPC replies
sent, events handled and acknowledged) for at most `DIASPORAHUB_STOP_GRACE_SECONDS`; what is still running then is
killed, and its requests and events, not acknowledged, go back to their queues for another instance.

A container that dies (nameko kills it when one of its threads raises) ends the process with exit code 1, so that
`diasporahub run`'s supervisor, systemd or Kubernetes starts it again: left running, the process would take no
request and no event while its health port, if any, still answered.
"""

from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: E402

from servicekit.logs import configure_logging  # noqa: E402
from servicekit.settings import act_as_service  # noqa: E402


class StopSettings(BaseSettings):
    """How long the work in flight may take to finish after SIGTERM (`DIASPORAHUB_STOP_GRACE_SECONDS`); below the
    15 s after which `diasporahub run` kills a process, and Kubernetes' terminationGracePeriodSeconds (30)."""

    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_")

    stop_grace_seconds: float = 10.0


def load_service(path: str) -> type:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", help="module:Class of the nameko service")
    parser.add_argument("--listen", default="127.0.0.1:8000", help="address of the HTTP server, if the service has one")
    args = parser.parse_args(argv)

    service_cls = load_service(args.service)
    configure_logging(service_cls.name)
    # The service reaches RabbitMQ as its own broker user (`REGISTRY_AMQP_URI`), and so does all it builds.
    bus = act_as_service(service_cls.name)
    runner = ServiceRunner(bus.nameko_config(WEB_SERVER_ADDRESS=args.listen))
    runner.add_service(service_cls)

    # Sent None on SIGTERM or SIGINT, or the error a container died of.
    ended = eventlet.event.Event()

    def request_stop(_signum, _frame):
        if not ended.ready():
            ended.send(None)

    def watch_containers():
        try:
            runner.wait()
        except Exception as exc:
            died_of = exc
        else:
            died_of = RuntimeError("its container stopped unasked")
        if not ended.ready():
            ended.send(died_of)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runner.start()
    leave_the_start_out_of_garbage_collection()
    eventlet.spawn_n(watch_containers)
    log = logging.getLogger(__name__)
    log.info("started %s", service_cls.name)
    died_of = ended.wait()
    if died_of is not None:
        log.critical("%s died (%r); ending the process so that it is started again", service_cls.name, died_of)
        sys.exit(1)
    stop_gracefully(runner, service_cls.name, StopSettings().stop_grace_seconds)


def leave_the_start_out_of_garbage_collection() -> None:
    """What starting made (modules, classes, the service's extensions) lives as long as the process: frozen, a full
    collection no longer walks it. A full collection stops every greenthread of the process: in the gateway under
    the directory page's load each took 75–100 ms of CPU (up to 330 ms on a loaded machine), frozen here 6–8 ms.
    The start's own garbage is collected first so that it is not kept."""
    gc.collect()
    gc.freeze()


def stop_gracefully(runner: ServiceRunner, name: str, grace_seconds: float) -> None:
    log = logging.getLogger(__name__)
    log.info("stopping %s: finishing the work in flight (at most %g s)", name, grace_seconds)
    try:
        with eventlet.Timeout(grace_seconds):
            runner.stop()
    except eventlet.Timeout:
        log.warning("%s: the work in flight did not finish within %g s; stopping at once", name, grace_seconds)
        runner.kill()
        return
    log.info("stopped %s", name)


if __name__ == "__main__":
    main()
