from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# The web pages under load: the whole system (`diasporahub run`'s processes) in a scratch RabbitMQ vhost and a
# scratch directory, 200 verified associations in the directory, then wrk (Debian's package) with 16 connections,
# each accepting gzip as a browser does, on the home page, a directory page with results (20 hits, markers on the
# map) and an association's page. It prints requests/s, p50 and p99 for each, how many bytes each page transfers
# (the HTML alone, and with its stylesheet, script and map on a first visit), the CPU milliseconds per request
# of each busy process (and of the gateway processes together) and the load average after each page. The gateway
# runs as `diasporahub run` runs it: GATEWAY_PROCESSES processes on one port (unset: one per core, at most 4), or
# `--gateway-processes N`. With `--profile DIR`, py-spy samples the first gateway process during each page's run
# and its most costly frames are printed. It asserts nothing.
# Targets: each ≥ 200 requests/s with p99 ≤ 100 ms on this machine; the home page under 150 KB transferred.
#
#     .venv/bin/python benchmarks/pages.py
#     .venv/bin/python benchmarks/pages.py --seconds 5 --associations 60   # quicker
#     .venv/bin/python benchmarks/pages.py --only directory --profile /tmp/pages-profile
#     .venv/bin/python benchmarks/pages.py --gateway-processes 1   # one gateway process, as before

import argparse  # noqa: E402
import gzip  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from directory_sample import CITIES  # noqa: E402
from http_load import Call, drive_with_wrk, wrk_available  # noqa: E402
from memory import free_port  # noqa: E402
from process_cpu import CpuMeter, load_average, system_pids  # noqa: E402
from py_spy import print_profile, start_sampling  # noqa: E402
from registry_import import cell_staff_token  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402

from diasporahub.system import System  # noqa: E402
from servicekit.database import create_database_engine  # noqa: E402
from services.catalogue import gateway_processes  # noqa: E402

CLIENTS = 16
BROWSER_ENCODINGS = "gzip, deflate, br"  # what Chromium sends: each page's cost includes compressing it
PASSWORD = "correct horse battery staple"


def populate(api: str, cell: dict, count: int) -> str:
    """`count` verified associations across the sample's cities; the id of the first, once search has them all."""
    requests.post(
        f"{api}/api/v1/auth/signup",
        json={"email": "pages@bench.example.org", "password": PASSWORD, "display_name": "Bench"},
        timeout=10,
    ).raise_for_status()
    login = requests.post(
        f"{api}/api/v1/auth/login", json={"email": "pages@bench.example.org", "password": PASSWORD}, timeout=10
    )
    secretary = {"Authorization": f"Bearer {login.json()['token']}"}
    ids = []
    for number in range(count):
        city, country, _, _ = CITIES[number % len(CITIES)]
        draft = {
            "name": f"Mizo Fellowship {city} {number}",
            "country": country,
            "city": city,
            "languages": ["lus", "en"],
            "email": f"fellowship{number}@example.org",
            "office_bearers": [{"name": "Lalremruata", "title": "President"}],
            "gathering_places": [{"address": f"{number} Church Road, {city}", "schedule": "Sundays at 10"}],
        }
        answer = requests.post(f"{api}/api/v1/associations", json=draft, headers=secretary, timeout=10)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
        requests.post(
            f"{api}/api/v1/associations/{ids[-1]}/verification", json={"decision": "verify"}, headers=cell, timeout=10
        ).raise_for_status()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = requests.get(f"{api}/api/v1/search/associations", params={"q": "mizo fellowship"}, timeout=10)
        if found.json()["total"] >= count:
            break
        time.sleep(0.5)
    return ids[0]


def transferred(api: str, path: str) -> tuple[int, int]:
    """Bytes of the page (status line, headers and body as sent: gzipped if the gateway chose to), and with the
    assets it links to on a first visit. Asked as a browser asks, accepting gzip."""
    page, html = wire_size(f"{api}{path}")
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode()))
    return page, page + sum(wire_size(f"{api}{asset}")[0] for asset in assets)


def wire_size(url: str) -> tuple[int, bytes]:
    """The answer's size on the wire, and its body decoded."""
    answer = requests.get(url, headers={"Accept-Encoding": BROWSER_ENCODINGS}, stream=True, timeout=10)
    sent = answer.raw.read(decode_content=False)
    body = gzip.decompress(sent) if answer.headers.get("Content-Encoding") == "gzip" else sent
    headers = "".join(f"{name}: {value}\r\n" for name, value in answer.raw.headers.items())
    return len(f"HTTP/1.1 {answer.status_code} {answer.reason}\r\n{headers}\r\n".encode()) + len(sent), body


def busy_processes(per_request: dict[str, float]) -> str:
    """CPU ms per request of the processes that did noticeable work for it, and of the gateway processes together."""
    busy = ", ".join(f"{name} {ms:.2f}" for name, ms in per_request.items() if ms >= 0.05)
    gateways = [ms for name, ms in per_request.items() if name == "gateway" or name.startswith("gateway-")]
    return busy if len(gateways) < 2 else f"{busy}; the {len(gateways)} gateway processes together {sum(gateways):.2f}"


def measure(system: System, name: str, path: str, args) -> None:
    page = [Call("GET", path, headers={"Accept-Encoding": BROWSER_ENCODINGS})]
    drive_with_wrk(system.url, page, CLIENTS, 2, threads=2)  # warm-up
    meter = CpuMeter(system_pids(system.processes))
    profile_file = args.profile / f"{re.sub(r'[^a-z]+', '-', name.lower()).strip('-')}.txt" if args.profile else None
    samplers = start_sampling({profile_file: system.processes["gateway"].pid} if profile_file else {}, args.seconds)
    load = drive_with_wrk(system.url, page, CLIENTS, args.seconds, threads=2)
    cpu = meter.ms_per(load.requests)
    for sampler in samplers:
        sampler.wait()
    page_bytes, first_visit_bytes = transferred(system.url, path)
    failed = f", {load.failures} failed" if load.failures else ""
    print(
        f"{name:>26}: {load.rate:7.1f} requests/s, p50 {load.p50:6.1f} ms, "
        f"p99 {load.p99:6.1f} ms{failed}; {page_bytes / 1024:5.1f} KiB transferred "
        f"({first_visit_bytes / 1024:5.1f} KiB with its assets on a first visit)\n"
        f"{'':>28}CPU ms per request: {busy_processes(cpu)} [load average {load_average()}]",
        flush=True,
    )
    if profile_file is not None:
        print_profile(profile_file)


def run(args, workdir: Path) -> None:
    with ScratchVhost(args.amqp_uri, args.management_url, "pages_bench") as vhost:
        env = scratch_environment(vhost.amqp_uri, workdir)
        listen = f"127.0.0.1:{free_port()}"
        system = System(listen=listen, env=env, log_dir=workdir / "log", gateway_processes=args.gateway_processes)
        system.prepare()
        engine = create_database_engine(env["REGISTRY_DATABASE_URL"])
        cell = {"Authorization": f"Bearer {cell_staff_token(engine)}"}
        engine.dispose()
        system.start_all()
        try:
            association_id = populate(system.url, cell, args.associations)
            pages = {
                "home": "/",
                "directory with results": "/directory?q=mizo+fellowship",
                "association": f"/associations/{association_id}",
            }
            # The API's answers that the directory and association pages are made from, for comparison.
            pages |= {
                "API: the same search": "/api/v1/search/associations?q=mizo+fellowship",
                "API: the same association": f"/api/v1/associations/{association_id}",
            }
            print(
                f"{args.associations} verified associations; {args.gateway_processes} gateway processes on "
                f"{os.cpu_count()} cores; wrk, {CLIENTS} connections, {args.seconds} s each "
                f"[load average {load_average()}]"
            )
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
            for name, path in pages.items():
                if args.only is None or args.only.lower() in name.lower():
                    measure(system, name, path, args)
        finally:
            system.stop_all()


def main() -> None:
    if not wrk_available():
        sys.exit("benchmarks/pages.py needs wrk: apt-get install wrk")
    parser = argparse.ArgumentParser(description="The web pages under load, and what each transfers.")
    parser.add_argument("--associations", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--only", help="measure only the pages whose name contains this (e.g. directory)")
    parser.add_argument("--profile", type=Path, help="a directory for py-spy's samples of the gateway")
    parser.add_argument(
        "--gateway-processes",
        type=int,
        default=gateway_processes(os.environ),
        help="gateway processes sharing the port (default: as diasporahub run, GATEWAY_PROCESSES or one per core)",
    )
    add_broker_options(parser)
    args = parser.parse_args()
    in_scratch_directory("pages-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
