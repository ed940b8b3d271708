"""A service's outbox relay in a process of its own: `python -m servicekit.relay registry
services.registry.settings:RegistrySettings`.

In the service's own process the relay is a green thread, and it does not get to run while requests keep that
process busy: events waited seconds behind them. As a process of its own it publishes while the service is
saturated. It reaches the broker as the service's own user and reads only the outbox table of the service's
database. `diasporahub run` and the compose file start one per service whose catalogue entry says `relay=True`, and
tell the service (`<SERVICE>_OUTBOX_RELAY=process`) not to relay in its own process as well.
"""

import argparse
import importlib
import logging
import signal

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import MetaData

from servicekit.database import create_database_engine
from servicekit.event_metrics import serve_process_metrics
from servicekit.logs import configure_logging
from servicekit.outbox import OutboxRelay, add_outbox_table
from servicekit.settings import act_as_service


class RelaySettings(BaseSettings):
    """`DIASPORAHUB_OUTBOX_POLL_SECONDS`: how often a relay process looks for new events (it cannot be woken by the
    service's commit, as a relay inside the service is)."""

    model_config = SettingsConfigDict(env_prefix="DIASPORAHUB_OUTBOX_")

    poll_seconds: float = 0.05


def outbox_relay(service: str, database_url: str) -> OutboxRelay:
    bus = act_as_service(service)
    metadata = MetaData()
    add_outbox_table(metadata)
    engine = create_database_engine(database_url)
    return OutboxRelay(engine, metadata, bus.amqp_uri, poll_seconds=RelaySettings().poll_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", help="the service's name, as in services/catalogue.py")
    parser.add_argument("settings", help="module:Class of the service's settings (it has a database_url)")
    args = parser.parse_args(argv)

    configure_logging(f"{args.service}-relay")
    serve_process_metrics(f"{args.service}-relay")
    module_name, _, class_name = args.settings.partition(":")
    settings = getattr(importlib.import_module(module_name), class_name)()
    relay = outbox_relay(args.service, settings.database_url)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: relay.stop())
    signal.signal(signal.SIGINT, lambda _signum, _frame: relay.stop())
    logging.getLogger(__name__).info("relaying the %s outbox", args.service)
    relay.run()


if __name__ == "__main__":
    main()
