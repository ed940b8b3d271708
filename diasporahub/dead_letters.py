"""`diasporahub dead-letters` and `diasporahub dead-letters replay QUEUE`: what consumers could not handle.

A message a consumer failed on (after its retries) waits in `<queue>.dead-letter`. Once the cause is
fixed, replay puts each back on its queue, in order; consumers drop what they had handled already.
"""

import argparse
import sys

from kombu import Connection, Producer

from contracts.topology import SUBSCRIPTIONS, subscription
from servicekit.bus import BrokerUnreachable, check_broker, dead_letter_queue, declare_topology
from servicekit.settings import BusSettings


def counts(connection: Connection) -> dict[str, int]:
    channel = connection.default_channel
    return {
        sub.dead_letter_queue: dead_letter_queue(sub)(channel).queue_declare(passive=True).message_count
        for sub in SUBSCRIPTIONS
    }


def replay(connection: Connection, queue: str) -> int:
    """Move every dead-lettered message of `queue` back onto it; return how many moved."""
    channel = connection.default_channel
    dead = dead_letter_queue(subscription(queue))(channel)
    producer = Producer(channel)
    moved = 0
    while (message := dead.get(no_ack=False)) is not None:
        headers = {key: value for key, value in message.headers.items() if key != "x-death"}
        producer.publish(
            message.body,
            exchange="",
            routing_key=queue,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            headers=headers,
            delivery_mode=2,
        )
        message.ack()
        moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diasporahub dead-letters", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    replaying = commands.add_parser("replay", help="put a queue's dead-lettered messages back on it")
    replaying.add_argument("queue", choices=[sub.queue for sub in SUBSCRIPTIONS])
    args = parser.parse_args(argv)
    bus = BusSettings()
    try:
        check_broker(bus.amqp_uri)
    except BrokerUnreachable as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        return 2
    with Connection(bus.amqp_uri, ssl=bus.ssl_options(), transport_options={"confirm_publish": True}) as connection:
        declare_topology(connection)
        if args.command == "replay":
            print(f"{replay(connection, args.queue)} messages put back on {args.queue}")
            return 0
        for queue, count in counts(connection).items():
            print(f"{count:8d}  {queue}")
    return 0
