# The one-RPC read of issue 10: the whole system (`diasporahub run`'s processes) in a scratch RabbitMQ vhost and a
# scratch directory, one verified association, and `GET /api/v1/associations/{id}` from wrk (Debian's `wrk`, an
# external load generator: `apt-get install wrk`) with 16 connections: first with the gateway keeping no answers,
# so that every request is an RPC to the registry, then as deployed, where the gateway keeps anonymous reads. Prints
# requests/s, latency percentiles and the CPU milliseconds per request of each process (from /proc, RabbitMQ's too).
# With `--profile DIR`, py-spy samples the gateway and the registry during each run and the most costly frames are
# printed. It asserts nothing.
# Targets: ≥ 1,000 requests/s, p99 ≤ 40 ms.
#
#     .venv/bin/python benchmarks/read_path.py
#     .venv/bin/python benchmarks/read_path.py --seconds 10 --profile /tmp/read-profile

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from process_cpu import CpuMeter, describe, system_pids  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from contracts.associations import AssociationV1  # noqa: E402
from diasporahub.system import System  # noqa: E402
from servicekit.database import create_database_engine  # noqa: E402
from servicekit.sqltypes import utcnow  # noqa: E402
from services.registry.db import AssociationRecord  # noqa: E402
from tests.messaging_servers import free_port  # noqa: E402

PROFILED = ("gateway", "registry")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def verified_association(database_url: str) -> str:
    """One verified association, straight into the registry's database: anyone may read it."""
    now = utcnow()
    due = now.replace(year=now.year + 1)
    association = AssociationV1.model_validate({
        "id": "5f0c1e2a-4b7d-4f51-9a51-3c0e8b0d2a11", "name": "Mizo Welfare Association Dubai", "country": "AE",
        "city": "Dubai", "languages": ["lus", "en"], "email": "mwa@example.org", "status": "verified", "version": 2,
        "registered_at": now, "updated_at": now, "verification_due_at": due,
    })  # fmt: skip
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(AssociationRecord).values(
            id=association.id, name=association.name, country=association.country, status=association.status,
            version=association.version, registered_at=now, updated_at=now, verification_due_at=due,
            document=association.model_dump(mode="json")))  # fmt: skip
    engine.dispose()
    return str(association.id)


def wrk(url: str, seconds: int, connections: int) -> tuple[int, float, dict[str, float], str]:
    """Requests made, requests/s, latency percentiles (ms), and wrk's own report."""
    report = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", report).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
    percentiles = {
        percent: float(value) * UNIT_MS[unit]
        for percent, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", report, re.MULTILINE)
    }
    return requests, rate, percentiles, report


def start_profiles(processes, directory: Path, seconds: int, names=PROFILED) -> list[subprocess.Popen]:
    """py-spy sampling each named process for `seconds`, raw stacks into DIRECTORY/<name>.txt."""
    directory.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    return [
        subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(processes[name].pid),
                "--duration",
                str(seconds),
                "--format",
                "raw",
                "--output",
                str(directory / f"{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for name in names
    ]


def print_profile(path: Path, top: int = 25) -> None:
    """The frames most often on the stack (inclusive), as a share of the process's busy samples."""
    inclusive, total = Counter(), 0
    for line in filter(None, path.read_text().splitlines()):
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] += int(count)
    print(f"\n{path.stem}: {total} samples; frames most often on the stack")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {frame[:140]}")


def run(args, workdir: Path) -> None:
    """The read with every request an RPC to the registry (the gateway keeps no answers: what the target is about),
    then as deployed, where the gateway keeps anonymous reads for GATEWAY_PUBLIC_READ_CACHE_SECONDS."""
    for folder, settings, what in (("rpc", {"GATEWAY_PUBLIC_READ_CACHE_SECONDS": "0"}, "every request an RPC"),
                                       ("kept", {}, "kept by the gateway, as deployed")):  # fmt: skip
        (workdir / folder).mkdir()
        with ScratchVhost(args.amqp_uri, args.management_url, "read_path_bench") as vhost:
            env = scratch_environment(vhost.amqp_uri, workdir / folder) | settings
            profile = args.profile / folder if args.profile else None
            measure(args, env, workdir / folder, what, profile)


def measure(args, env: dict[str, str], workdir: Path, what: str, profile: Path | None) -> None:
    registry_url = env["REGISTRY_DATABASE_URL"]
    system = System(listen=f"127.0.0.1:{free_port()}", env=env, log_dir=workdir / "log")
    system.prepare()
    url = f"{system.url}/api/v1/associations/{verified_association(registry_url)}"
    system.start_all()
    try:
        wrk(url, 3, args.connections)  # warm-up
        meter = CpuMeter(system_pids(system.processes))
        profiles = start_profiles(system.processes, profile, args.seconds) if profile else []
        requests, rate, percentiles, report = wrk(url, args.seconds, args.connections)
        cpu = meter.ms_per(requests)
        for sampler in profiles:
            sampler.wait()
    finally:
        system.stop_all()
    print(report)
    print(f"GET /api/v1/associations/{{id}}, {what}, {args.connections} connections, {args.seconds} s: "
          f"{rate:,.0f} requests/s (target ≥ 1,000), p50 {percentiles['50']:.1f} ms, p99 {percentiles['99']:.1f} ms "
          f"(target ≤ 40 ms)  [load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}]")  # fmt: skip
    print(f"CPU ms per request: {describe(cpu)}\n")
    if profile:
        for name in PROFILED:
            print_profile(profile / f"{name}.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description="A one-RPC read through the gateway under wrk.")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="a directory for py-spy's samples of the gateway and registry")
    add_broker_options(parser)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("read_path.py needs wrk: apt-get install wrk")
    in_scratch_directory("read-path-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
