from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# Search at the size of the issue: indexes 10,000 associations and 100,000 individuals through the
# search service's own handlers (one event per transaction, inbox included, as the consumer does),
# then times text, filter and geo queries directly against the engine and over HTTP through the
# gateway and RabbitMQ with 16 concurrent clients. The engine is the embedded one, or Elasticsearch
# when SEARCH_ELASTICSEARCH_URL is set. Everything runs in a scratch directory and a fresh RabbitMQ
# vhost, deleted at the end. It prints figures and asserts nothing.
#
#     .venv/bin/python benchmarks/search.py
#     .venv/bin/python benchmarks/search.py --associations 1000 --individuals 5000 --requests 500   # quicker

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import requests  # noqa: E402
from directory_sample import CATEGORIES, CITIES, LANGUAGES, NAME_WORDS  # noqa: E402
from http_load import Call, drive, percentile  # noqa: E402
from kombu import Connection  # noqa: E402
from scratch_vhost import ScratchVhost  # noqa: E402

from contracts.associations import AssociationV1  # noqa: E402
from contracts.events import AssociationVerifiedV1, IndividualRegisteredV1  # noqa: E402
from contracts.individuals import IndividualProfileV1  # noqa: E402
from contracts.search import AssociationQuery  # noqa: E402
from contracts.topology import SEARCH_INDEXER, SEARCH_PEOPLE_INDEXER  # noqa: E402
from servicekit.bus import declare_topology  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402
from services.search import handlers  # noqa: E402
from services.search.engines import open_engine  # noqa: E402
from services.search.settings import SearchSettings  # noqa: E402

DESCRIPTION_WORDS = [
    "sunday",
    "service",
    "help",
    "for",
    "new",
    "arrivals",
    "prayer",
    "meeting",
    "football",
    "choir",
    "mizo",
    "language",
    "classes",
    "families",
    "students",
    "workers",
    "nurses",
    "hospital",
    "visits",
    "funeral",
    "support",
    "remittance",
    "festival",
    "chapchar",
    "kut",
    "mim",
    "kut",
    "thalfavang",
    "kut",
]
FIRST_NAMES = [
    "Lalremruati",
    "Lalthansanga",
    "Zoramthanga",
    "Vanlalruata",
    "Lalrinpuii",
    "Ṭhangzuala",
    "Malsawmi",
    "Lalnunmawia",
    "Zothanpuii",
    "Lalhmingliana",
    "Rohmingthanga",
    "Lalramliana",
    "Vanlalhriatpuii",
    "Zosangliana",
    "Lalmuanpuii",
    "Biakchungnunga",
]
SURNAMES = [
    "Ralte",
    "Hmar",
    "Sailo",
    "Chhakchhuak",
    "Pachuau",
    "Khiangte",
    "Renthlei",
    "Fanai",
    "Colney",
    "Tochhawng",
    "Chawngthu",
    "Varte",
]
VISIBILITIES = ["private", "associations", "public"]
KINDS = ("text", "filter", "geo")
WARM_UP_REQUESTS = 100


def jittered(generator: random.Random, city) -> tuple[str, str, float, float]:
    name, country, lat, lon = city
    return name, country, lat + generator.uniform(-0.3, 0.3), ((lon + generator.uniform(-0.3, 0.3) + 180) % 360) - 180


def association_events(count: int, generator: random.Random) -> list[AssociationVerifiedV1]:
    events = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count):
        city, country, lat, lon = jittered(generator, generator.choice(CITIES))
        registered = start + timedelta(minutes=number)
        association = AssociationV1(
            id=uuid.UUID(int=generator.getrandbits(128), version=4),
            name=" ".join(generator.sample(NAME_WORDS, 3) + [city, str(number)]),
            alternate_names=[" ".join(generator.sample(NAME_WORDS, 2))],
            description=" ".join(generator.choices(DESCRIPTION_WORDS, k=25)),
            categories=generator.sample(CATEGORIES, generator.randint(0, 2)),
            country=country,
            city=city,
            location={"lat": lat, "lon": lon},
            languages=generator.sample(LANGUAGES, generator.randint(1, 3)),
            email="secretary@example.org",
            office_bearers=[{"name": person_name(generator), "title": "President"}],
            status="verified" if generator.random() < 0.85 else "pending",
            version=1,
            registered_at=registered,
            updated_at=registered,
        )
        events.append(
            AssociationVerifiedV1(
                event_id=uuid.uuid4(),
                occurred_at=registered,
                aggregate_id=association.id,
                aggregate_version=1,
                association=association,
            )
        )
    return events


def person_name(generator: random.Random) -> str:
    return f"{generator.choice(FIRST_NAMES)} {generator.choice(SURNAMES)}"


def individual_events(count: int, generator: random.Random) -> list[IndividualRegisteredV1]:
    events = []
    for _ in range(count):
        city, country, _, _ = generator.choice(CITIES)
        profile = IndividualProfileV1(
            id=uuid.UUID(int=generator.getrandbits(128), version=4),
            name=person_name(generator),
            country=country,
            city=city,
            languages=generator.sample(LANGUAGES, generator.randint(1, 2)),
            visibility=generator.choice(VISIBILITIES),
        )
        events.append(
            IndividualRegisteredV1(
                event_id=uuid.uuid4(),
                occurred_at=datetime.now(UTC),
                aggregate_id=profile.id,
                aggregate_version=1,
                individual=profile,
            )
        )
    return events


def index_all(engine, events, handler, queue: str) -> float:
    """Events per second, each in its own unit of work with its inbox record, as the consumer handles them."""
    started = time.perf_counter()
    for event in events:
        handler(unit_of_work=partial(engine.unit_of_work, handling=(queue, event)), event=event)
    return len(events) / (time.perf_counter() - started)


def query_parameters(kind: str, generator: random.Random) -> dict[str, str]:
    if kind == "text":
        words = generator.sample(NAME_WORDS + DESCRIPTION_WORDS, generator.randint(1, 2))
        if generator.random() < 0.3:
            words[-1] = words[-1][: max(2, len(words[-1]) // 2)]
        return {"q": " ".join(words)}
    if kind == "filter":
        countries = {city[1] for city in generator.sample(CITIES, generator.randint(1, 2))}
        parameters = {"country": ",".join(sorted(countries)), "language": generator.choice(LANGUAGES)}
        if generator.random() < 0.5:
            parameters["category"] = generator.choice(CATEGORIES)
        return parameters
    _, _, lat, lon = jittered(generator, generator.choice(CITIES))
    return {"near": f"{lat:.4f},{lon:.4f}", "radius_km": str(generator.choice([25, 50, 100, 500])), "sort": "distance"}


def time_engine(engine, kind: str, count: int, generator: random.Random) -> list[float]:
    queries = [AssociationQuery.model_validate(query_parameters(kind, generator)) for _ in range(count)]
    latencies = []
    for query in queries:
        started = time.perf_counter()
        with engine.unit_of_work() as work:
            work.index.search_associations(query, public_only=True)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def search_and_gateway(env: dict[str, str], port: int, log_dir: Path) -> Iterator[None]:
    """The search service and the gateway, each in its own process as `diasporahub run` starts them."""
    processes = []
    for service in ("services.search.service:SearchService", "gateway.service:GatewayService"):
        with open(log_dir / f"{service.split(':')[1]}.log", "ab") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "servicekit.runner", service, "--listen", f"127.0.0.1:{port}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v1/search/associations", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise RuntimeError(f"the search service or the gateway did not start; see the logs in {log_dir}")
            time.sleep(0.2)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def time_gateway(port: int, paths: list[str], clients: int) -> tuple[list[float], float]:
    """Latencies (ms) of every request, and requests per second, with `clients` clients on kept-alive connections."""
    latencies, rate, failures = drive(port, [Call("GET", path) for path in paths], clients, ok=(200,))
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, such as {failures[0]}")
    return latencies, rate


def paths(kind: str, count: int, generator: random.Random) -> list[str]:
    return [f"/api/v1/search/associations?{urlencode(query_parameters(kind, generator))}" for _ in range(count)]


def run(args, workdir: Path) -> None:
    generator = random.Random(2026)
    database_url = f"sqlite:///{workdir / 'search.sqlite3'}"
    upgrade("services.search", database_url)
    settings = SearchSettings(database_url=database_url, elasticsearch_index_prefix=f"bench-{uuid.uuid4().hex[:8]}-")
    engine = open_engine(settings)
    print(f"engine: {'Elasticsearch at ' + settings.elasticsearch_url if settings.elasticsearch_url else 'embedded'}")

    associations = association_events(args.associations, generator)
    people = individual_events(args.individuals, generator)
    rate = index_all(engine, associations, handlers.index_association, SEARCH_INDEXER.queue)
    print(f"indexed {len(associations)} associations: {rate:,.0f}/s")
    rate = index_all(engine, people, handlers.index_individual, SEARCH_PEOPLE_INDEXER.queue)
    print(f"indexed {len(people)} individuals: {rate:,.0f}/s")
    if settings.elasticsearch_url:
        engine.client.indices.refresh(index=f"{settings.elasticsearch_index_prefix}*")

    engine_figures = {}
    for kind in KINDS:
        time_engine(engine, kind, WARM_UP_REQUESTS, generator)
        engine_figures[kind] = time_engine(engine, kind, args.requests, generator)
    if settings.elasticsearch_url:
        engine.client.indices.delete(index=f"{settings.elasticsearch_index_prefix}*")
    engine.close()

    gateway_figures: dict[str, tuple[list[float], float]] = {}
    sequential: dict[str, list[float]] = {}
    with ScratchVhost(args.amqp_uri, args.management_url, "search_bench") as vhost:
        env = os.environ | {
            "DIASPORAHUB_AMQP_URI": vhost.amqp_uri,
            "SEARCH_DATABASE_URL": database_url,
            "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'registry.sqlite3'}",
        }
        with Connection(vhost.amqp_uri) as connection:
            declare_topology(connection)  # as `diasporahub prepare` would: services declare only their own part
        port = free_port()
        with search_and_gateway(env, port, workdir):
            for kind in KINDS:
                time_gateway(port, paths(kind, WARM_UP_REQUESTS, generator), args.clients)
                gateway_figures[kind] = time_gateway(port, paths(kind, args.requests, generator), args.clients)
                sequential[kind], _ = time_gateway(port, paths(kind, args.requests // 4, generator), 1)
    report(engine_figures, gateway_figures, sequential, args)


def report(engine_figures, gateway_figures, sequential, args) -> None:
    print(f"\n{args.requests} queries of each kind; engine: one at a time; gateway: {args.clients} concurrent clients")
    print(
        f"{'kind':<8}{'engine p50':>12}{'p99':>9}{'engine q/s':>12}"
        f"{'gateway req/s':>15}{'p50':>9}{'p99':>9}{'1-client p50':>14}{'ratio':>8}"
    )
    for kind in KINDS:
        engine_ms = engine_figures[kind]
        gateway_ms, gateway_rate = gateway_figures[kind]
        engine_rate = 1000 / statistics.fmean(engine_ms)
        print(
            f"{kind:<8}{percentile(engine_ms, 50):10.2f}ms{percentile(engine_ms, 99):7.2f}ms{engine_rate:12,.0f}"
            f"{gateway_rate:15,.0f}{percentile(gateway_ms, 50):7.2f}ms{percentile(gateway_ms, 99):7.2f}ms"
            f"{percentile(sequential[kind], 50):12.2f}ms{engine_rate / gateway_rate:8.2f}"
        )
    print(
        "ratio = engine queries/s one at a time ÷ gateway requests/s with the clients: how much more each request "
        "costs through HTTP, the gateway, RabbitMQ and the service than in the engine alone (target ≤ 3).\n"
        "Targets through the gateway: ≥ 300 requests/s and p99 ≤ 50 ms."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Indexing rate and query latency of search, engine and gateway.")
    parser.add_argument("--associations", type=int, default=10_000)
    parser.add_argument("--individuals", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="measured queries of each kind")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--management-url", default="http://127.0.0.1:15672")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (database and logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
