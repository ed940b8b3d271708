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
#     .venv/bin/python benchmarks/read_path.py --gateway-processes 1   # default: as diasporahub run

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from http_load import Call, drive_with_wrk, wrk_available  # noqa: E402
from process_cpu import CpuMeter, describe, load_average, system_pids  # noqa: E402
from py_spy import print_profile, start_sampling  # noqa: E402
from scratch_system import add_broker_options, in_scratch_directory, scratch_environment  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from contracts.associations import AssociationV1  # noqa: E402
from diasporahub.system import System  # noqa: E402
from servicekit.database import create_database_engine  # noqa: E402
from servicekit.sqltypes import utcnow  # noqa: E402
from services.catalogue import gateway_processes  # noqa: E402
from services.registry.db import AssociationRecord  # noqa: E402
from tests.messaging_servers import free_port  # noqa: E402

PROFILED = ("gateway", "registry")


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
    system = System(listen=f"127.0.0.1:{free_port()}", env=env, log_dir=workdir / "log",
                    gateway_processes=args.gateway_processes)  # fmt: skip
    system.prepare()
    path = f"/api/v1/associations/{verified_association(registry_url)}"
    system.start_all()
    try:
        read = [Call("GET", path)]
        drive_with_wrk(system.url, read, args.connections, 3, threads=1)  # warm-up
        meter = CpuMeter(system_pids(system.processes))
        outputs = {profile / f"{name}.txt": system.processes[name].pid for name in PROFILED} if profile else {}
        samplers = start_sampling(outputs, args.seconds)
        load = drive_with_wrk(system.url, read, args.connections, args.seconds, threads=1)
        cpu = meter.ms_per(load.requests)
        for sampler in samplers:
            sampler.wait()
    finally:
        system.stop_all()
    failed = f", {load.failures} failed" if load.failures else ""
    print(f"GET /api/v1/associations/{{id}}, {what}, {args.gateway_processes} gateway processes, "
          f"{args.connections} connections, {args.seconds} s: "
          f"{load.rate:,.0f} requests/s (target ≥ 1,000), p50 {load.p50:.1f} ms, p99 {load.p99:.1f} ms "
          f"(target ≤ 40 ms){failed}  [load average {load_average()}]")  # fmt: skip
    print(f"CPU ms per request: {describe(cpu)}\n")
    if profile:
        for name in PROFILED:
            print_profile(profile / f"{name}.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description="A one-RPC read through the gateway under wrk.")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="a directory for py-spy's samples of the gateway and registry")
    parser.add_argument(
        "--gateway-processes",
        type=int,
        default=gateway_processes(os.environ),
        help="gateway processes sharing the port (default: as diasporahub run, GATEWAY_PROCESSES or one per core)",
    )
    add_broker_options(parser)
    args = parser.parse_args()
    if not wrk_available():
        sys.exit("read_path.py needs wrk: apt-get install wrk")
    in_scratch_directory("read-path-bench-", lambda workdir: run(args, workdir))


if __name__ == "__main__":
    main()
