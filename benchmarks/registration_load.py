from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# Registration at the size of issue 10: the whole system (`diasporahub run`'s processes, relays included) in a
# scratch RabbitMQ vhost and a scratch directory, 10,000 associations already in one country (written straight
# into the registry's database before the services start, through its repository, so the duplicate finder's index
# holds them), then clients registering new ones in that country through the gateway. For every 201 it times
# how long until the association is searchable by the Cell (a watcher polls the Cell's search for the newest
# pending associations). Run with 8 clients, then with 1. It prints figures and asserts nothing. CPU per registration
# is printed as measured, and less what each process spends idle and on the watcher's polls (measured before).
# With `--profile DIR`, py-spy samples the registry, the gateway, search and messaging for the first seconds of the
# 8-client run.
# Targets: ≥ 150 registrations/s with 8 clients, lag from 201 to searchable p99 ≤ 1 s.
#
#     .venv/bin/python benchmarks/registration_load.py
#     .venv/bin/python benchmarks/registration_load.py --preloaded 2000 --registrations 400   # quicker

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from http_load import percentile  # noqa: E402
from messaging import scratch_database  # noqa: E402
from process_cpu import CpuMeter, describe, load_average, system_pids  # noqa: E402
from py_spy import print_profile, start_sampling  # noqa: E402
from registry_import import cell_staff_token  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from contracts.associations import AssociationDraft  # noqa: E402
from diasporahub.system import System  # noqa: E402
from servicekit.database import UnitOfWork, create_database_engine  # noqa: E402
from servicekit.sqltypes import utcnow  # noqa: E402
from services.registry.accounts.handlers import token_hash  # noqa: E402
from services.registry.associations import domain  # noqa: E402
from services.registry.associations.repository import AssociationRepository  # noqa: E402
from services.registry.db import AccountRecord, Base, SessionRecord  # noqa: E402
from tests.messaging_servers import free_port  # noqa: E402

COUNTRY = "IN"
CITIES = ["Delhi", "Bengaluru", "Aizawl", "Shillong", "Imphal", "Lunglei", "Mumbai", "Kolkata", "Chennai", "Pune"]
KINDS = ["Welfare Association", "Fellowship", "Students Union", "Youth", "Women's Group", "Kristian Fellowship"]
WORDS = ["Ṭhalai", "Zoram", "Lunglei", "Champhai", "Saiha", "Kolasib", "Serchhip", "Mamit", "Lawngtlai", "Hnahthial"]
WATCH_INTERVAL_SECONDS = 0.02
PROFILED = ("registry", "gateway", "search", "messaging")
PROFILE_SECONDS = 8
IDLE_SECONDS = 3


def association_name(chooser: random.Random) -> tuple[str, str]:
    coined = "".join(chooser.choice("bcdfghklmnprstvz") + chooser.choice("aeiou") for _ in range(3)).title()
    city = chooser.choice(CITIES)
    return f"{chooser.choice(WORDS)} {coined} {chooser.choice(KINDS)} {city}", city


def draft(chooser: random.Random, number: int, label: str) -> dict:
    name, city = association_name(chooser)
    return {"name": name, "country": COUNTRY, "city": city, "languages": ["lus"],
            "email": f"{label}-{number}@example.org"}  # fmt: skip


def preload(database_url: str, count: int) -> float:
    """The directory before the benchmark, through the registry's repository (no events: search never sees them)."""
    engine = create_database_engine(database_url)
    chooser = random.Random(10)
    started = time.perf_counter()
    sessions = sessionmaker(engine, expire_on_commit=False)
    for first in range(0, count, 1000):
        with UnitOfWork(sessions, Base.metadata, repositories={"associations": AssociationRepository}) as work:
            for number in range(first, min(first + 1000, count)):
                association, _registered = domain.register(
                    AssociationDraft.model_validate(draft(chooser, number, "preloaded")),
                    now=utcnow(), locate_city=lambda city, country: None, actor=None, status="verified",
                )  # fmt: skip
                work.associations.add(association)
    engine.dispose()
    return time.perf_counter() - started


class SearchWatcher:
    """Polls the Cell's search for the newest pending associations; remembers when each id was first seen."""

    def __init__(self, port: int, cell_headers: dict):
        self.port = port
        self.headers = cell_headers
        self.seen: dict[str, float] = {}
        self.polls = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.watch)

    def watch(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        path = f"/api/v1/search/associations?status=pending&country={COUNTRY}&sort=newest&size=100"
        while not self.stopping.is_set():
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            body = response.read()
            self.polls += 1
            now = time.monotonic()
            if response.status == 200:
                for item in json.loads(body)["items"]:
                    self.seen.setdefault(item["id"], now)
            self.stopping.wait(WATCH_INTERVAL_SECONDS)
        connection.close()

    def __enter__(self) -> "SearchWatcher":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join()


class IdleCost:
    """What each process spends with no registration under way: CPU ms per second (timers, polling), measured
    before the watcher starts, and per poll of the watcher, measured while it polls. Taken out of the figures per
    registration, which otherwise grow as the rate falls (on a loaded machine), and with the watcher's polls,
    whose number per registration changes with the rate and with how often the loaded watcher gets to poll."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        meter = CpuMeter(pids)
        time.sleep(IDLE_SECONDS)
        self.per_second = {name: ms / IDLE_SECONDS for name, ms in meter.ms_per(1).items()}
        self.per_poll = dict.fromkeys(pids, 0.0)

    def measure_polls(self, watcher: "SearchWatcher") -> None:
        meter, polls = CpuMeter(self.pids), watcher.polls
        time.sleep(IDLE_SECONDS)
        polls = max(watcher.polls - polls, 1)
        self.per_poll = {
            name: (ms - self.per_second[name] * IDLE_SECONDS) / polls for name, ms in meter.ms_per(1).items()
        }

    def taken_out(self, cpu: dict[str, float], *, seconds: float, polls: int, count: int) -> dict[str, float]:
        return {
            name: ms - (self.per_second[name] * seconds + self.per_poll[name] * polls) / count
            for name, ms in cpu.items()
        }


def admin_tokens(engine, count: int, label: str) -> list[str]:
    """Accounts with a session each, straight into the registry's database: each registration is made by an
    account of its own, as when associations register themselves (an account's session carries everything it
    administers, which would grow with every registration of one benchmark account)."""
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    now = utcnow()
    accounts = [{"id": uuid.uuid4(), "email": f"{label}-{number}@example.org", "display_name": "Admin",
                 "password_hash": "-", "is_cell_staff": False, "created_at": now, "password_changed_at": now}
                for number in range(count)]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(AccountRecord), accounts)
        expires_at = now + timedelta(days=1)
        sessions = [{"token_hash": token_hash(token), "account_id": account["id"], "created_at": now,
                     "expires_at": expires_at} for token, account in zip(tokens, accounts, strict=True)]  # fmt: skip
        connection.execute(insert(SessionRecord), sessions)
    return tokens


def register_all(port: int, clients: int, calls: list[tuple[dict, dict]]) -> tuple[dict[str, float], float, list[str]]:
    """`clients` clients on kept-alive connections, sharing the (draft, headers) calls: when each 201 came (by id),
    registrations/s, failures."""
    answered: dict[str, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    pending = iter(calls)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                call = next(pending, None)
            if call is None:
                break
            body, headers = call
            connection.request("POST", "/api/v1/associations", body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            reply = response.read()
            if response.status == 201:
                answered[json.loads(reply)["id"]] = time.monotonic()
            else:
                failures.append(f"HTTP {response.status}: {reply[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answered, len(calls) / (time.perf_counter() - started), failures


def measure(system: System, registry_url: str, cell: dict, clients: int, count: int, label: str, *, report=True,
            profile: Path | None = None):  # fmt: skip
    chooser = random.Random(label)
    engine = create_database_engine(registry_url)
    tokens = admin_tokens(engine, count, label)
    engine.dispose()
    calls = [
        (draft(chooser, number, label), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        for number, token in enumerate(tokens)
    ]
    port = int(system.url.rpartition(":")[2])
    pids = system_pids(system.processes)
    idle = IdleCost(pids) if report else None
    with SearchWatcher(port, cell) as watcher:
        if idle is not None:
            idle.measure_polls(watcher)
        meter, started, polls = CpuMeter(pids), time.monotonic(), watcher.polls
        # Sampled for the first seconds of the run only: py-spy must stop before the clients do.
        outputs = {profile / f"{name}.txt": system.processes[name].pid for name in PROFILED} if profile else {}
        profiles = start_sampling(outputs, PROFILE_SECONDS)
        answered, rate, failures = register_all(port, clients, calls)
        cpu = meter.ms_per(count)
        run = {"seconds": time.monotonic() - started, "polls": watcher.polls - polls, "count": count}
        for sampler in profiles:
            sampler.wait()
        deadline = time.monotonic() + 60
        while set(answered) - set(watcher.seen) and time.monotonic() < deadline:
            time.sleep(0.05)
    lags = [(watcher.seen[id_] - at) * 1000 for id_, at in answered.items() if id_ in watcher.seen]
    missing = len(answered) - len(lags)
    lags = [max(lag, 0.0) for lag in lags]
    if not report:
        return
    busy = idle.taken_out(cpu, **run)
    print(f"{clients} client(s), {count} registrations: {rate:,.1f} registrations/s; from 201 to searchable by "
          f"the Cell p50 {percentile(lags, 50):,.0f} ms, p99 {percentile(lags, 99):,.0f} ms, max {max(lags):,.0f} ms"
          f"{f'; {missing} never seen' if missing else ''}"
          f"{f'; {len(failures)} failed: {failures[0]}' if failures else ''}"
          f"  [load average {load_average()}]\n"
          f"  CPU ms per registration: {describe(cpu)}  (all: {sum(cpu.values()):.1f})\n"
          f"  less what each process spends idle (timers, polling) and on the watcher's {run['polls']} polls: "
          f"{describe(busy)}  (all: {sum(busy.values()):.1f})", flush=True)  # fmt: skip
    for name in PROFILED if profile else ():
        print_profile(profile / f"{name}.txt")


def run(args, workdir: Path) -> None:
    with ScratchVhost(args.amqp_uri, args.management_url, "registration_bench") as vhost:
        registry_url = scratch_database(args.postgres, workdir, "registry")
        env = scratch_environment(vhost.amqp_uri, workdir, registry=registry_url)
        port = free_port()
        system = System(listen=f"127.0.0.1:{port}", env=env, log_dir=workdir / "log")
        system.prepare()
        seconds = preload(registry_url, args.preloaded)
        print(f"{args.preloaded:,} associations preloaded in {COUNTRY} in {seconds:.1f} s", flush=True)
        engine = create_database_engine(registry_url)
        cell = {"Authorization": f"Bearer {cell_staff_token(engine)}"}
        engine.dispose()
        system.start_all()
        try:
            measure(system, registry_url, cell, args.clients, 100, "warm-up", report=False)
            measure(system, registry_url, cell, args.clients, args.registrations, "many", profile=args.profile)
            measure(system, registry_url, cell, 1, max(args.registrations // 4, 100), "one")
        finally:
            system.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description="Registrations through the gateway, and their lag to search.")
    parser.add_argument("--preloaded", type=int, default=10_000)
    parser.add_argument("--registrations", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="a directory for py-spy's samples of the 8-client run")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: the registry's database is made on it")
    add_broker_options(parser)
    args = parser.parse_args()
    in_scratch_directory("registration-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
