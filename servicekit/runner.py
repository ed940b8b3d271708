"""Runs one service in this process: `python -m servicekit.runner services.registry.service:RegistryService`.

Each service runs in its own process, as in production; `diasporahub run`
starts one of these per service.

SIGTERM stops it gracefully: it takes no new requests or events and lets the work in flight finish (RPC replies
sent, events handled and acknowledged) for at most `DIASPORAHUB_STOP_GRACE_SECONDS`; what is still running then is
killed, and its requests and events, not acknowledged, go back to their queues for another instance.
"""

from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

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

    stopping = eventlet.event.Event()

    def request_stop(_signum, _frame):
        if not stopping.ready():
            stopping.send()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runner.start()
    logging.getLogger(__name__).info("started %s", service_cls.name)
    stopping.wait()
    stop_gracefully(runner, service_cls.name, StopSettings().stop_grace_seconds)


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
