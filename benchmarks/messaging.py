from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# Messaging at the size of issue 9: the whole system (`diasporahub run`'s processes) in a scratch RabbitMQ vhost
# and a scratch directory, messaging's directory filled with 1,000 verified associations from registry events,
# a real SMTP server (aiosmtpd, its own process). It times, for several Cell broadcasts to all 1,000: the time
# until every inbox copy is written (the broadcast's answer comes after the commit that writes them all; counted
# in the database to be sure) and until every e-mail reached the SMTP server; then message posting through the
# gateway with 16 clients on kept-alive connections, each the admin of an association of its own speaking in its
# conversation (posts are limited per account), with the CPU milliseconds each process spent per post (on a
# shared machine these say more than the rate does): first from threads of this process, then, if wrk is installed,
# from wrk, whose clients take little of the 2 cores and wait for no GIL. It prints figures and asserts nothing.
#
#     .venv/bin/python benchmarks/messaging.py
#     .venv/bin/python benchmarks/messaging.py --associations 200 --broadcasts 2 --posts 500   # quicker
#     .venv/bin/python benchmarks/messaging.py --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg2  # noqa: E402
import pyotp  # noqa: E402
import requests  # noqa: E402
from http_load import Call, drive, drive_with_wrk, percentile, wrk_available  # noqa: E402
from kombu import Connection  # noqa: E402
from process_cpu import CpuMeter, describe, load_average, system_pids  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.accounts import Principal  # noqa: E402
from contracts.associations import AssociationV1  # noqa: E402
from contracts.events import AssociationVerifiedV1  # noqa: E402
from diasporahub.system import System  # noqa: E402
from servicekit.bus import event_exchange  # noqa: E402
from servicekit.rpc_client import RpcClient  # noqa: E402
from servicekit.settings import BusSettings  # noqa: E402
from services.messaging.db import DirectoryAssociation, InboxRecord  # noqa: E402
from tests.messaging_servers import SmtpServer, free_port  # noqa: E402

COUNTRIES = ["IN", "SG", "AE", "GB", "US", "AU", "NZ", "CA", "MM", "TH", "MY", "KR", "NO"]
PASSWORD = "a long benchmark password"


def scratch_database(server_url: str | None, workdir: Path, name: str) -> str:
    if server_url is None:
        return f"sqlite:///{workdir / f'{name}.sqlite3'}"
    url = make_url(server_url)
    database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    connection.close()
    return url.set(database=database).render_as_string(hide_password=False)


def association_events(count: int) -> list[AssociationVerifiedV1]:
    now = datetime.now(UTC)
    events = []
    for number in range(count):
        association = AssociationV1(
            id=uuid.uuid4(), name=f"Mizo Association {number}", country=COUNTRIES[number % len(COUNTRIES)],
            city="Somewhere", languages=["lus"], email=f"association-{number}@example.org", status="verified",
            version=2, registered_at=now, updated_at=now,
        )  # fmt: skip
        events.append(
            AssociationVerifiedV1(
                event_id=uuid.uuid4(),
                occurred_at=now,
                aggregate_id=association.id,
                aggregate_version=2,
                association=association,
            )  # fmt: skip
        )
    return events


def publish(amqp_uri: str, events) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        for event in events:
            producer.publish(event.model_dump(mode="json"), exchange=event_exchange(event.source),
                             routing_key=event.routing_key, serializer="json")  # fmt: skip


def wait_for(condition, timeout_seconds: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + timeout_seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)
    return result


def time_broadcasts(args, system_env, engine, smtp: SmtpServer) -> tuple[list[float], list[float], list[float]]:
    """Per broadcast: seconds until the RPC answered, until every inbox copy is counted, until every e-mail."""
    cell = Principal(account_id=uuid.uuid4(), email="cell@mizoram.gov.in", display_name="Cell", is_cell_staff=True)
    answered, inboxes, emails = [], [], []
    with RpcClient(BusSettings(amqp_uri=system_env["DIASPORAHUB_AMQP_URI"], rpc_timeout_seconds=60)) as client:
        for number in range(args.broadcasts):
            before = smtp.count()
            started = time.perf_counter()
            sent = client.call("messaging", "broadcast", cell.model_dump(mode="json"),
                               {"subject": f"Broadcast {number}", "body": "New **labour** rules."})  # fmt: skip
            answered.append(time.perf_counter() - started)
            message_id = uuid.UUID(sent["message_id"])

            def copies(message_id=message_id) -> bool:
                with engine.connect() as connection:
                    count = connection.execute(
                        select(func.count()).where(InboxRecord.message_id == message_id)
                    ).scalar_one()
                return count >= args.associations

            wait_for(copies, 30, "the inbox copies")
            inboxes.append(time.perf_counter() - started)
            wait_for(lambda before=before: smtp.count() >= before + args.associations, 120, "the e-mails", 0.02)
            emails.append(time.perf_counter() - started)
            print(f"  broadcast {number + 1}: answered {answered[-1]:.2f} s, every inbox {inboxes[-1]:.2f} s, "
                  f"every e-mail {emails[-1]:.2f} s", flush=True)  # fmt: skip
    return answered, inboxes, emails


def sign_in(api: str, email: str, password: str = PASSWORD) -> dict:
    requests.post(f"{api}/api/v1/auth/signup", json={"email": email, "password": password,
                                                     "display_name": email.split("@")[0]}, timeout=30)  # fmt: skip
    token = requests.post(f"{api}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['token']}", "Content-Type": "application/json"}


def enrolled_cell(api: str, headers: dict) -> dict:
    """A Cell session may only enrol its second factor until it has: enrol, with pyotp as the authenticator app."""
    started = requests.post(f"{api}/api/v1/auth/second-factor/enrolment", headers=headers, timeout=30)
    started.raise_for_status()
    code = pyotp.TOTP(started.json()["secret"]).now()
    requests.post(f"{api}/api/v1/auth/second-factor/confirmation", headers=headers, json={"code": code},
                  timeout=30).raise_for_status()  # fmt: skip
    return headers


def registered_association(api: str, cell: dict, name: str) -> tuple[str, dict]:
    """A verified association and its admin's headers."""
    admin = sign_in(api, f"bench-{name.lower()}-{uuid.uuid4().hex[:6]}@example.org")
    registered = requests.post(f"{api}/api/v1/associations", headers=admin, timeout=30, json={
        "name": f"Benchmark Fellowship {name}", "country": "IN", "city": "Bengaluru", "languages": ["lus"],
        "email": f"{name.lower()}@example.org"})  # fmt: skip
    registered.raise_for_status()
    association_id = registered.json()["id"]
    requests.post(f"{api}/api/v1/associations/{association_id}/verification", headers=cell, timeout=30,
                  json={"decision": "verify"}).raise_for_status()  # fmt: skip
    return association_id, admin


def posting_setup(system: System, speakers: int) -> list[tuple[str, dict]]:
    """`speakers` verified associations, each with its own admin, each in a conversation with one more association:
    (conversation id, the speaking admin's headers) for each. Posts are limited per account, so each client posts as
    an account of its own, as people do; one account posting hundreds a second would only measure the count of its
    own recent posts (the benchmark lifts the limit)."""
    api = system.url
    cell_email = f"cell-{uuid.uuid4().hex[:6]}@mizoram.gov.in"
    subprocess.run([sys.executable, "-m", "diasporahub.cli", "admin", "create", "--email", cell_email],
                   input=f"{PASSWORD}\n", text=True, capture_output=True, env=system.env, check=True)  # fmt: skip
    cell = enrolled_cell(api, sign_in(api, cell_email))
    listener, _ = registered_association(api, cell, "Listener")
    conversations = []
    for number in range(speakers):
        speaker, admin = registered_association(api, cell, f"Speaker{number}")
        body = {"from_association_id": speaker, "participants": [listener], "subject": "Benchmark", "body": "Hello"}

        def started(admin=admin, body=body):
            answer = requests.post(f"{api}/api/v1/conversations", headers=admin, json=body, timeout=30)
            return answer.json()["id"] if answer.status_code == 201 else None

        conversations.append((wait_for(started, 30, "the conversation", 0.2), admin))
    return conversations


def posting_calls(conversations: list[tuple[str, dict]]) -> list[Call]:
    body = json.dumps({"body": "A message posted by the benchmark, with *a little* Markdown."})
    return [Call("POST", f"/api/v1/conversations/{conversation_id}/messages", body=body, headers=headers)
            for conversation_id, headers in conversations]  # fmt: skip


def time_posting(port: int, conversations: list[tuple[str, dict]], count: int, clients: int, path: str | None = None):
    if path is None:
        calls = posting_calls(conversations)
    else:
        calls = [Call("GET", path, headers=headers) for _, headers in conversations]
    latencies, rate, failures = drive(port, [calls[number % len(calls)] for number in range(count)], clients)
    if failures:
        print(f"  {len(failures)} calls failed, such as {failures[0]}")
    return latencies, rate


def run(args, workdir: Path) -> None:
    with (
        ScratchVhost(args.amqp_uri, args.management_url, "messaging_bench") as vhost,
        SmtpServer(workdir / "maildir") as smtp,
    ):
        messaging_url = scratch_database(args.postgres, workdir, "messaging")
        registry_url = scratch_database(args.postgres, workdir, "registry")
        env = scratch_environment(vhost.amqp_uri, workdir, messaging=messaging_url, registry=registry_url) | {
            "MESSAGING_SMTP_HOST": "127.0.0.1",
            "MESSAGING_SMTP_PORT": str(smtp.port),
            "MESSAGING_POSTS_PER_MINUTE": "10000000",
            "MESSAGING_BROADCASTS_PER_HOUR": "100000",
            "REGISTRY_SIGN_UPS_PER_ADDRESS": "100000",
        }
        port = free_port()
        system = System(listen=f"127.0.0.1:{port}", env=env, log_dir=workdir / "log")
        system.prepare()
        system.start_all()
        engine = create_engine(messaging_url)
        try:
            publish(vhost.amqp_uri, association_events(args.associations))

            def projected() -> bool:
                with engine.connect() as connection:
                    count = connection.execute(select(func.count()).select_from(DirectoryAssociation)).scalar_one()
                return count >= args.associations

            wait_for(projected, 120, "the directory", 0.1)
            print(f"{args.broadcasts} Cell broadcasts to {args.associations} associations, each with e-mail:")
            answered, inboxes, emails = time_broadcasts(args, env, engine, smtp)
            conversations = posting_setup(system, args.clients)
            time_posting(port, conversations, 200, args.clients)  # warm-up
            meter = CpuMeter(system_pids(system.processes))
            latencies, rate = time_posting(port, conversations, args.posts, args.clients)
            cpu = meter.ms_per(args.posts)
            wrk = None
            if wrk_available():
                meter = CpuMeter(system_pids(system.processes))
                posts = posting_calls(conversations)
                wrk = drive_with_wrk(f"http://127.0.0.1:{port}", posts, args.clients, args.wrk_seconds)
                wrk_cpu = meter.ms_per(wrk.requests)
            me_latencies, me_rate = time_posting(port, conversations, args.posts, args.clients, path="/api/v1/me")
        finally:
            engine.dispose()
            system.stop_all()
    print(f"\nbroadcast to {args.associations}: p50 of {args.broadcasts}: answered {statistics.median(answered):.2f} s,"
          f" every inbox {statistics.median(inboxes):.2f} s (target ≤ 2 s), every e-mail at the SMTP server "
          f"{statistics.median(emails):.2f} s (target ≤ 10 s)")  # fmt: skip
    print(f"posting through the gateway, {args.clients} clients, {args.posts} posts: {rate:,.0f} requests/s "
          f"(target ≥ 300), p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
          f"(target ≤ 50 ms)")  # fmt: skip
    print(f"CPU ms per post, each process (load average {load_average()}): "
          f"{describe(cpu)}")  # fmt: skip
    if wrk is None:
        print("posting with wrk: not measured, wrk is not installed")
    else:
        print(f"posting through the gateway from wrk, {args.clients} clients for {args.wrk_seconds:g} s, "
              f"{wrk.requests} posts: {wrk.rate:,.0f} requests/s, p50 {wrk.p50:.1f} ms, p99 {wrk.p99:.1f} ms"
              + (f", {wrk.failures} failed" if wrk.failures else ""))  # fmt: skip
        print(f"CPU ms per post from wrk, each process: {describe(wrk_cpu)}")
    me_p50, me_p99 = percentile(me_latencies, 50), percentile(me_latencies, 99)
    print(f"for comparison, GET /api/v1/me (the gateway and the registry's whoami, no messaging): {me_rate:,.0f} "
          f"requests/s, p50 {me_p50:.1f} ms, p99 {me_p99:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="Broadcast fan-out, e-mail delivery and posting through the gateway.")
    parser.add_argument("--associations", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=5)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--wrk-seconds", type=float, default=10.0, help="how long wrk posts")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: registry and messaging databases made on it")
    add_broker_options(parser)
    args = parser.parse_args()
    in_scratch_directory("messaging-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
