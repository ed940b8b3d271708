from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# Help requests at the size of issue 11: the whole system (`diasporahub run`'s processes) in a scratch RabbitMQ
# vhost and a scratch directory, 50 verified associations within 30 km of Dubai (registry events, so that search
# and messaging both know them), a real SMTP server (aiosmtpd, its own process). A signed-in person raises help
# requests through the gateway one after the other; for each it times, from just before the POST, until all 50
# inbox entries exist (counted in messaging's database) and until all 50 e-mails, and the Cell's duty mailbox's,
# reached the SMTP server. It prints p50 and p99 with the machine's load (`uptime`) and asserts nothing.
#
#     .venv/bin/python benchmarks/alerts.py
#     .venv/bin/python benchmarks/alerts.py --requests 10   # quicker

import argparse  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from http_load import percentile  # noqa: E402
from messaging import publish, scratch_database, sign_in, wait_for  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.associations import AssociationV1  # noqa: E402
from contracts.events import AssociationVerifiedV1  # noqa: E402
from diasporahub.system import System  # noqa: E402
from servicekit.rpc_client import RpcClient  # noqa: E402
from servicekit.settings import BusSettings  # noqa: E402
from services.messaging.db import DirectoryAssociation, InboxRecord, MessageRecord  # noqa: E402
from tests.messaging_servers import SmtpServer, free_port  # noqa: E402

DUBAI = (25.2048, 55.2708)
KM_PER_DEGREE = 111.32


def near_dubai(rng: random.Random, within_km: float) -> dict:
    distance, bearing = within_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = DUBAI[0] + distance * math.cos(bearing) / KM_PER_DEGREE
    lon = DUBAI[1] + distance * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(DUBAI[0])))
    return {"lat": round(lat, 5), "lon": round(lon, 5)}


def associations_near_dubai(count: int) -> list[AssociationVerifiedV1]:
    rng, now = random.Random(11), datetime.now(UTC)
    events = []
    for number in range(count):
        association = AssociationV1(
            id=uuid.uuid4(), name=f"Mizo Fellowship Emirates {number}", country="AE", city="Dubai",
            location=near_dubai(rng, 30), languages=["lus", "en"], email=f"fellowship-{number}@example.org",
            status="verified", version=2, registered_at=now, updated_at=now,
        )  # fmt: skip
        events.append(AssociationVerifiedV1(event_id=uuid.uuid4(), occurred_at=now, aggregate_id=association.id,
                                            aggregate_version=2, association=association))  # fmt: skip
    return events


def inbox_entries(engine, reference: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(InboxRecord)
            .join(MessageRecord, MessageRecord.id == InboxRecord.message_id)
            .where(MessageRecord.subject.contains(reference))
        ).scalar_one()


def time_help_requests(args, api: str, engine, smtp: SmtpServer) -> tuple[list[float], list[float], list[float]]:
    """Per request: seconds until the POST answered, until every inbox entry, until every e-mail."""
    headers = sign_in(api, f"bench-{uuid.uuid4().hex[:6]}@example.org")
    answered, inboxes, emails = [], [], []
    for number in range(args.requests):
        before = smtp.count()
        body = {"category": "medical", "urgency": "immediate", "severity": "severe", "languages": ["lus"],
                "description": f"Benchmark request {number}: hospitalised after an accident at work.",
                "location": {"lat": DUBAI[0], "lon": DUBAI[1], "country": "AE", "city": "Dubai"},
                "contact": {"name": "Benchmark", "phone": "+971501234567"}}  # fmt: skip
        started = time.perf_counter()
        raised = requests.post(f"{api}/api/v1/alerts", json=body, headers=headers, timeout=30)
        answered.append(time.perf_counter() - started)
        raised.raise_for_status()
        created = raised.json()
        if created["notified_count"] != args.associations:
            print(f"  request {number + 1} told {created['notified_count']} associations, not {args.associations}")
        reference = created["reference"]
        wait_for(lambda reference=reference: inbox_entries(engine, reference) >= args.associations, 30, "the inboxes")
        inboxes.append(time.perf_counter() - started)
        wait_for(lambda before=before: smtp.count() >= before + args.associations + 1, 60, "the e-mails", 0.005)
        emails.append(time.perf_counter() - started)
        print(f"  {created['reference']}: answered {answered[-1] * 1000:.0f} ms, every inbox "
              f"{inboxes[-1] * 1000:.0f} ms, every e-mail {emails[-1] * 1000:.0f} ms", flush=True)  # fmt: skip
    return answered, inboxes, emails


def indexed_nearby(amqp_uri: str, count: int) -> bool:
    query = {"lat": DUBAI[0], "lon": DUBAI[1], "radius_km": 50, "limit": 100}
    with RpcClient(BusSettings(amqp_uri=amqp_uri)) as client:
        return len(client.call("search", "nearby_associations", query)) >= count


def run(args, workdir: Path) -> None:
    with (
        ScratchVhost(args.amqp_uri, args.management_url, "alerts_bench") as vhost,
        SmtpServer(workdir / "maildir") as smtp,
    ):
        messaging_url = f"sqlite:///{workdir / 'messaging.sqlite3'}"
        databases = {name: scratch_database(args.postgres, workdir, name) for name in ("registry", "alerts")}
        env = scratch_environment(vhost.amqp_uri, workdir, messaging=messaging_url, **databases) | {
            "MESSAGING_SMTP_HOST": "127.0.0.1",
            "MESSAGING_SMTP_PORT": str(smtp.port),
            "MESSAGING_CELL_EMAIL": "duty@cell.example.org",  # the Cell's e-mail counts too: associations + 1
            "ALERTS_REQUESTS_PER_HOUR_PER_ACCOUNT": "100000",
            "ALERTS_REQUESTS_PER_HOUR_PER_ADDRESS": "100000",
            "REGISTRY_SIGN_UPS_PER_ADDRESS": "100000",
        }
        system = System(listen=f"127.0.0.1:{free_port()}", env=env, log_dir=workdir / "log")
        system.prepare()
        system.start_all()
        engine = create_engine(messaging_url)
        try:
            publish(vhost.amqp_uri, associations_near_dubai(args.associations))

            def known_to_messaging() -> bool:
                with engine.connect() as connection:
                    count = connection.execute(select(func.count()).select_from(DirectoryAssociation)).scalar_one()
                return count >= args.associations

            wait_for(known_to_messaging, 120, "messaging's directory", 0.1)
            wait_for(lambda: indexed_nearby(vhost.amqp_uri, args.associations), 120, "search's index", 0.1)
            print(f"{args.requests} help requests in Dubai, each told to the {args.associations} associations "
                  "within 50 km (inbox and e-mail):")  # fmt: skip
            answered, inboxes, emails = time_help_requests(args, system.url, engine, smtp)
        finally:
            engine.dispose()
            system.stop_all()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nhelp request to {args.associations} associations, {args.requests} requests ({os.cpu_count()} cores; "
          f"load: {load}):")  # fmt: skip
    for name, seconds in (("POST answered", answered), ("every inbox entry", inboxes),
                          ("every e-mail at the SMTP server", emails)):  # fmt: skip
        milliseconds = [value * 1000 for value in seconds]
        print(f"  {name}: p50 {percentile(milliseconds, 50):.0f} ms, p99 {percentile(milliseconds, 99):.0f} ms")
    print("  target: p99 ≤ 1,000 ms from the POST until all inbox entries exist and all e-mails reached SMTP")


def main() -> None:
    parser = argparse.ArgumentParser(description="Help requests matched to 50 associations: inbox and e-mail latency.")
    parser.add_argument("--associations", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: registry and alerts databases made on it")
    add_broker_options(parser)
    args = parser.parse_args()
    in_scratch_directory("alerts-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
