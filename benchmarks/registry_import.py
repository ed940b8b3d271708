from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# The Cell's bulk import, measured the way `diasporahub import associations` runs it: a 10,000-row
# CSV in chunks over RPC to a running registry service (check pass, then import pass), then the same
# file again (which must add nothing). A fresh RabbitMQ vhost and a fresh database, removed after.
# It prints figures and asserts nothing. Target: ≥ 1,000 associations/s. With `--profile FILE`, py-spy samples
# the process (the registry service runs in it) during the first import pass.
#
#     .venv/bin/python benchmarks/registry_import.py [--rows 10000] [--database-url postgresql+psycopg2://...]

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager, nullcontext  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from py_spy import print_profile  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from diasporahub.bulk import ROWS_PER_CHUNK  # noqa: E402
from servicekit.database import create_database_engine  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402
from servicekit.outbox import TABLE_NAME as OUTBOX  # noqa: E402
from servicekit.rpc_client import RpcClient  # noqa: E402
from servicekit.settings import BusSettings  # noqa: E402
from servicekit.sqltypes import utcnow  # noqa: E402
from services.registry.accounts.handlers import token_hash  # noqa: E402
from services.registry.db import AccountRecord, AssociationRecord, Base, SessionRecord  # noqa: E402
from services.registry.imports.chunked import split_csv  # noqa: E402

PLACES = [("IN", "Delhi"), ("IN", "Bengaluru"), ("SG", "Singapore"), ("AE", "Dubai"), ("US", "Houston"),
          ("GB", "London"), ("AU", "Melbourne"), ("MM", "Yangon"), ("TH", "Bangkok"), ("JP", "Tokyo")]  # fmt: skip
KINDS = ["Welfare Association", "Fellowship", "Students Union", "Youth", "Women's Group", "Kristian Fellowship"]
WORDS = ["Ṭhalai", "Zoram", "Lunglei", "Champhai", "Saiha", "Kolasib", "Serchhip", "Mamit", "Lawngtlai", "Hnahthial"]


def generate_csv(rows: int, seed: int = 7) -> str:
    chooser = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "alternate_names", "categories", "country", "city", "languages", "email", "founded_year"])
    for number in range(rows):
        country, city = chooser.choice(PLACES)
        coined = "".join(chooser.choice("bcdfghklmnprstvz") + chooser.choice("aeiou") for _ in range(3)).title()
        name = f"{chooser.choice(WORDS)} {coined} {chooser.choice(KINDS)} {city}"
        acronym = "".join(word[0] for word in name.split()[:-1]).upper()
        email = f"office{number}@example.org"
        writer.writerow(
            [name, f"{acronym} {city}", "welfare;church", country, city, "lus;en", email, chooser.randint(1950, 2024)]
        )
    return out.getvalue()


def cell_staff_token(engine) -> str:
    token = secrets.token_urlsafe(32)
    account_id, now = uuid.uuid4(), utcnow()
    with engine.begin() as connection:
        connection.execute(insert(AccountRecord).values(
            id=account_id, email="bench@cell.example.org", display_name="Bench", password_hash="-",
            is_cell_staff=True, created_at=now, password_changed_at=now))  # fmt: skip
        connection.execute(insert(SessionRecord).values(
            token_hash=token_hash(token), account_id=account_id, created_at=now,
            expires_at=now.replace(year=now.year + 1)))  # fmt: skip
    return token


@contextmanager
def sampled(output: Path):
    """py-spy samples this process until the block ends (SIGINT makes it write its raw stacks)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy), "record", "--pid", str(os.getpid()), "--format", "raw", "--output", str(output)]
    sampler = subprocess.Popen([*command, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # py-spy attaches
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait()


def import_file(client: RpcClient, token: str, text: str, during_import=None) -> tuple[float, float, float, list]:
    """Seconds for the check pass and the import pass, the import pass's CPU seconds in this process (the service,
    its outbox relay and the client: a figure less bent by a loaded machine), and each import chunk's (rows
    imported, seconds)."""
    chunks = list(split_csv(text, ROWS_PER_CHUNK))
    started = time.perf_counter()
    for chunk in chunks:
        client.call("registry", "import_associations_csv", token, chunk.text, chunk.first_line, False, True)
    check_seconds = time.perf_counter() - started
    imported_chunks = []
    with during_import or nullcontext():
        started, cpu_started = time.perf_counter(), time.process_time()
        for chunk in chunks:
            chunk_started = time.perf_counter()
            report = client.call(
                "registry", "import_associations_csv", token, chunk.text, chunk.first_line, False, False
            )
            imported_chunks.append((len(report["imported"]), time.perf_counter() - chunk_started))
        import_seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return check_seconds, import_seconds, cpu_seconds, imported_chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--management-url", default="http://127.0.0.1:15672")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--profile", type=Path, help="a file for py-spy's raw stacks of the first import pass")
    args = parser.parse_args()

    text = generate_csv(args.rows)
    with (
        tempfile.TemporaryDirectory() as folder,
        ScratchVhost(args.amqp_uri, args.management_url, "import_bench") as vhost,
    ):
        amqp_uri = vhost.amqp_uri
        database_url = args.database_url or f"sqlite:///{folder}/registry.sqlite3"
        upgrade("services.registry", database_url)
        engine = create_database_engine(database_url)
        token = cell_staff_token(engine)
        os.environ["REGISTRY_DATABASE_URL"] = database_url
        from services.registry.service import RegistryService

        runner = ServiceRunner(BusSettings(amqp_uri=amqp_uri).nameko_config())
        runner.add_service(RegistryService)
        runner.start()
        try:
            with RpcClient(BusSettings(amqp_uri=amqp_uri), timeout_seconds=300) as client:
                profiling = sampled(args.profile) if args.profile else None
                check_seconds, import_seconds, cpu_seconds, imported_chunks = import_file(
                    client, token, text, profiling
                )
                again_check, again_import, _cpu, again_chunks = import_file(client, token, text)
            relay_started = time.perf_counter()
            outbox = Base.metadata.tables[OUTBOX]
            with engine.connect() as connection:
                while connection.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar_one():
                    eventlet.sleep(0.1)
            relay_seconds = time.perf_counter() - relay_started
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(AssociationRecord)).scalar_one()
        finally:
            runner.stop()
            engine.dispose()

    backend = database_url.split(":", 1)[0]
    print(f"registry import of {args.rows} rows ({backend}):")
    print(f"  check pass     {check_seconds:6.2f} s  {args.rows / check_seconds:8.0f} rows/s")
    imported = sum(rows for rows, _seconds in imported_chunks)
    rate = imported / import_seconds
    print(f"  import pass    {import_seconds:6.2f} s  {rate:8.0f} associations/s  ({imported} imported)")
    print(f"  its CPU        {cpu_seconds:6.2f} s  {1000 * cpu_seconds / max(imported, 1):8.2f} ms per association")
    total = check_seconds + import_seconds
    print(f"  whole import   {total:6.2f} s  {args.rows / total:8.0f} associations/s  (target ≥ 1000)")
    first, last = imported_chunks[0], imported_chunks[-1]
    print(f"  first chunk    {first[1]:6.2f} s  {first[0] / first[1]:8.0f} associations/s; last chunk "
          f"{last[1]:.2f} s  {last[0] / last[1]:.0f} associations/s")  # fmt: skip
    imported_again = sum(rows for rows, _seconds in again_chunks)
    print(f"  second import  {again_check + again_import:6.2f} s  {imported_again} imported (must be 0)")
    print(f"  events relayed {relay_seconds:6.2f} s after the import ended; {stored} associations stored")
    if args.profile:
        print_profile(args.profile, top=40)


if __name__ == "__main__":
    main()
