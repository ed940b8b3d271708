# Memory of every DiasporaHub process: starts the whole system as `diasporahub run` starts it (the
# supervisor, which prepares the bus and databases and then starts one process per service), in a
# RabbitMQ vhost and a scratch directory of its own (SQLite databases, logs), deleted at the end.
# It prints the resident set (RSS) of the supervisor and of each service once they are ready, then
# puts a load on them over HTTP through the gateway, the way people would: sign-ups and logins,
# association registrations in many cities (each placed by the registry's gazetteer), individuals'
# profiles, the Cell's verifications, then text, filter, geo, suggest and people searches with
# concurrent clients, as benchmarks/search.py does, and prints the RSS again, with each process's
# peak (VmHWM). It prints figures and asserts nothing. Targets (issue 7): every service ≤ 150 MB,
# the supervisor ≤ 50 MB.
#
#     .venv/bin/python benchmarks/memory.py
#     .venv/bin/python benchmarks/memory.py --accounts 20 --searches 300   # quicker

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import requests
from directory_sample import CATEGORIES, CITIES, LANGUAGES, NAME_WORDS
from scratch_vhost import ScratchVhost

PASSWORD = "a long enough benchmark password"
SEARCH_KINDS = ("text", "filter", "geo", "suggest", "people")
WRITERS = 4  # concurrent members registering, and Cell verifications


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Processes and their memory, read from /proc (Linux).


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak resident) of a process, in KiB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0])
    return figures


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def process_name(pid: int) -> str:
    """`registry` for `python -m servicekit.runner services.registry.service:RegistryService …`."""
    words = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    service = next((word for word in words if ":" in word and word.endswith("Service")), None)
    if service is None:
        return " ".join(words).strip()
    return service.rpartition(":")[2].removesuffix("Service").lower()


def measure(supervisor: subprocess.Popen) -> dict[str, dict[str, int]]:
    processes = {"supervisor (diasporahub run)": supervisor.pid}
    processes |= {process_name(pid): pid for pid in children(supervisor.pid)}
    return {name: memory_kib(pid) for name, pid in processes.items()}


# The load, over HTTP through the gateway.


class Client:
    """One person's connection to the API, signed in once."""

    def __init__(self, api: str, email: str, password: str = PASSWORD):
        self.api = api
        self.session = requests.Session()
        signed_up = self.session.post(
            f"{api}/api/v1/auth/signup",
            json={"email": email, "password": password, "display_name": email.split("@")[0]},
            timeout=60,
        )
        if signed_up.status_code not in (201, 409):
            raise RuntimeError(f"sign-up: {signed_up.status_code} {signed_up.text}")
        token = self.call("POST", "/api/v1/auth/login", json={"email": email, "password": password})["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        answer = self.session.request(method, f"{self.api}{path}", timeout=60, **kwargs)
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()


def in_parallel(clients: int, work: Callable[[object], object], items: Iterable) -> tuple[list, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(work, items))
    return results, time.perf_counter() - started


def member_work(api: str, associations: int, seed: int) -> list[str]:
    """A new member signs up, registers associations and a profile of their own; the associations' ids."""
    generator = random.Random(seed)
    member = Client(api, f"member-{seed}-{uuid.uuid4().hex[:6]}@example.org")
    ids = []
    for number in range(associations):
        city, country, _, _ = generator.choice(CITIES)
        body = {
            "name": " ".join(generator.sample(NAME_WORDS, 3) + [city, f"{seed}-{number}"]),
            "country": country,
            "city": city,
            "languages": generator.sample(LANGUAGES, generator.randint(1, 3)),
            "categories": generator.sample(CATEGORIES, generator.randint(0, 2)),
            "email": f"office-{seed}-{number}@example.org",
        }
        ids.append(member.call("POST", "/api/v1/associations", json=body)["id"])
    city, country, _, _ = generator.choice(CITIES)
    profile = {"name": f"Member {seed}", "country": country, "city": city, "languages": generator.sample(LANGUAGES, 2),
               "visibility": generator.choice(["associations", "public"])}  # fmt: skip
    member.call("POST", "/api/v1/individuals", json=profile)
    return ids


def search_path(kind: str, generator: random.Random) -> str:
    if kind == "text":
        words = generator.sample(NAME_WORDS, generator.randint(1, 2))
        return "/api/v1/search/associations?" + urlencode({"q": " ".join(words)})
    if kind == "filter":
        countries = sorted({city[1] for city in generator.sample(CITIES, 2)})
        parameters = {"country": ",".join(countries), "language": generator.choice(LANGUAGES)}
        return "/api/v1/search/associations?" + urlencode(parameters)
    if kind == "geo":
        _, _, lat, lon = generator.choice(CITIES)
        near = {"near": f"{lat:.4f},{lon:.4f}", "radius_km": generator.choice([25, 100, 500]), "sort": "distance"}
        return "/api/v1/search/associations?" + urlencode(near)
    if kind == "suggest":
        return "/api/v1/search/suggest?" + urlencode({"q": generator.choice(NAME_WORDS)[:3]})
    return "/api/v1/search/individuals?" + urlencode({"q": "member", "country": generator.choice(CITIES)[1]})


def load(api: str, env: dict[str, str], workdir: Path, args) -> None:
    cell_email = f"cell-{uuid.uuid4().hex[:8]}@mizoram.gov.in"
    subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "admin", "create", "--email", cell_email],
        input=f"{PASSWORD}\n", text=True, env=env, cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    cell = Client(api, cell_email)

    # Few at once: each sign-up and login hashes a password (argon2), which holds the registry's process.
    registered, seconds = in_parallel(
        WRITERS, lambda seed: member_work(api, args.associations_per_account, seed), range(args.accounts)
    )
    ids = [association_id for member_ids in registered for association_id in member_ids]
    print(f"load: {args.accounts} members signed up, logged in and registered {len(ids)} associations and "
          f"{args.accounts} profiles in {seconds:.1f} s")  # fmt: skip

    def verify(association_id: str) -> None:
        cell.call("POST", f"/api/v1/associations/{association_id}/verification", json={"decision": "verify"})

    _, seconds = in_parallel(WRITERS, verify, ids)
    print(f"load: the Cell verified {len(ids)} associations in {seconds:.1f} s")
    deadline = time.monotonic() + 60
    while cell.call("GET", "/api/v1/search/associations?size=1")["total"] < len(ids) and time.monotonic() < deadline:
        time.sleep(0.5)

    generator = random.Random(2026)
    local = threading.local()

    def get(path: str) -> None:
        if not hasattr(local, "client"):
            local.client = requests.Session()
            local.client.headers.update(cell.session.headers)
        answer = local.client.get(f"{api}{path}", timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text}")

    for kind in SEARCH_KINDS:
        paths = [search_path(kind, generator) for _ in range(args.searches)]
        _, seconds = in_parallel(args.clients, get, paths)
        print(f"load: {args.searches} {kind} searches, {args.clients} clients: {args.searches / seconds:,.0f}/s")


# The report.


def report(stages: dict[str, dict[str, dict[str, int]]]) -> None:
    names = list(next(iter(stages.values())))
    header = "".join(f"{stage:>16}{'peak by then':>16}" for stage in stages)
    print(f"\n{'process':<30}{header}")
    for name in names:
        figures = [stage.get(name, {}) for stage in stages.values()]
        print(
            f"{name:<30}"
            + "".join(
                f"{figure.get('VmRSS', 0) / 1024:13.1f} MB{figure.get('VmHWM', 0) / 1024:13.1f} MB"
                for figure in figures
            )
        )
    total = [sum(figures["VmRSS"] for figures in stage.values()) / 1024 for stage in stages.values()]
    print(f"{'all processes':<30}" + "".join(f"{figure:13.1f} MB{'':16}" for figure in total))
    print("RSS in MiB (VmRSS; peak by then: VmHWM). Targets: every service ≤ 150 MB, the supervisor ≤ 50 MB.")


def run(args, workdir: Path) -> None:
    with ScratchVhost(args.amqp_uri, args.management_url, "memory_bench") as vhost:
        env = os.environ | {
            "DIASPORAHUB_AMQP_URI": vhost.amqp_uri,
            "REGISTRY_DATABASE_URL": args.registry_database_url or f"sqlite:///{workdir / 'registry.sqlite3'}",
            "SEARCH_DATABASE_URL": f"sqlite:///{workdir / 'search.sqlite3'}",
            "MESSAGING_DATABASE_URL": f"sqlite:///{workdir / 'messaging.sqlite3'}",
            "MESSAGING_MAIL_FOLDER": str(workdir / "mail"),
            # Memory is measured, not latency: a machine busy with other work must not end the run with a 503.
            "DIASPORAHUB_RPC_TIMEOUT_SECONDS": "30",
            # Every member signs up from 127.0.0.1 here.
            "REGISTRY_SIGN_UPS_PER_ADDRESS": str(args.accounts + 10),
        }
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        # As `diasporahub run`, in the scratch directory: its logs go to var/log/ there.
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "diasporahub.cli", "run", "--listen", f"127.0.0.1:{port}"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        try:
            started = time.perf_counter()
            wait_until_ready(api, supervisor, workdir)
            print(f"the system was ready {time.perf_counter() - started:.1f} s after `diasporahub run` started")
            time.sleep(2)  # let start-up settle before the first figures
            stages = {"ready": measure(supervisor)}
            load(api, env, workdir, args)
            stages["after load"] = measure(supervisor)
        finally:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(30)
            except subprocess.TimeoutExpired:
                supervisor.kill()
                supervisor.wait()
    report(stages)


def wait_until_ready(api: str, supervisor: subprocess.Popen, workdir: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise RuntimeError(f"`diasporahub run` ended while starting; see the logs in {workdir / 'var/log'}")
        try:
            if requests.get(f"{api}/readyz", timeout=3).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the system was not ready after 120 s; see the logs in {workdir / 'var/log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description="RSS of the supervisor and every service, before and after load.")
    parser.add_argument("--accounts", type=int, default=100, help="members who sign up, each with a profile")
    parser.add_argument("--associations-per-account", type=int, default=5)
    parser.add_argument("--searches", type=int, default=2000, help="searches of each kind")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--registry-database-url", help="default: a SQLite file in the scratch directory")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--management-url", default="http://127.0.0.1:15672")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (databases and logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    try:
        run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
