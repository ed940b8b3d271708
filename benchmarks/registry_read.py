from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

# CPU per call of the registry's one-RPC read (`get_association`, issue 10), in process: a migrated registry database
# with one verified association (SQLite in a temporary directory, or the database `--database-url` names, which must
# be empty), the Database provider set up as the service sets it up, and per call what a worker does: the
# provider's `get_dependency`, then either the handler alone or the whole entrypoint (arguments parsed, result dumped
# to JSON, through nameko's worker_factory). Anonymous callers (the read wrk makes in benchmarks/read_path.py), and
# callers signed in. Prints CPU µs per call (time.process_time) and asserts nothing.
#
#     .venv/bin/python benchmarks/registry_read.py --calls 5000

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from uuid import uuid4  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.testing.services import worker_factory  # noqa: E402
from read_path import verified_association  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from servicekit.database import Database, create_database_engine  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402
from servicekit.settings import BusSettings  # noqa: E402
from services.registry.accounts.handlers import token_hash  # noqa: E402
from services.registry.associations import handlers  # noqa: E402
from services.registry.associations.entrypoints import association_id_of  # noqa: E402
from services.registry.db import AccountRecord, SessionRecord  # noqa: E402
from services.registry.service import RegistryService  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402

WARM_UP_CALLS = 200


def fill(database_url: str) -> tuple[str, str]:
    """The verified association benchmarks/read_path.py reads, and one signed-in account's token."""
    now = datetime.now(UTC)
    account_id, token = uuid4(), secrets.token_urlsafe(16)
    upgrade("services.registry", database_url)
    association_id = verified_association(database_url)
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(AccountRecord).values(
                id=account_id,
                email="reader@example.org",
                display_name="Reader",
                password_hash="-",
                created_at=now,
                password_changed_at=now,
            )
        )
        connection.execute(
            insert(SessionRecord).values(
                token_hash=token_hash(token), account_id=account_id, created_at=now, expires_at=now + timedelta(days=1)
            )
        )
    engine.dispose()
    return association_id, token


def set_up_provider() -> Database:
    """The registry's provider, bound to a container of RegistryService as nameko binds it, set up but not started:
    no relay, no background threads."""
    container = ServiceContainer(RegistryService, config={"AMQP_URI": BusSettings().amqp_uri})
    provider = next(dependency for dependency in container.dependencies if isinstance(dependency, Database))
    provider.setup()
    return provider


def cpu_us_per_call(call, calls: int) -> float:
    for _ in range(WARM_UP_CALLS):
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU µs per call of the registry's get_association, in process")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temporary directory)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database_url = arguments.database_url or f"sqlite:///{directory}/registry.sqlite3"
        association_id, token = fill(database_url)
        os.environ[f"{RegistrySettings.model_config['env_prefix']}DATABASE_URL"] = database_url
        provider = set_up_provider()
        worker_ctx = SimpleNamespace(entrypoint=SimpleNamespace(method_name="get_association"), call_id_stack=["b.1"])
        # A worker of an entrypoint not marked reads_only: the writer's UnitOfWork, for comparison.
        writer_ctx = SimpleNamespace(
            entrypoint=SimpleNamespace(method_name="association_history"), call_id_stack=["b.1"]
        )

        def handler(caller_token, context=worker_ctx):
            return lambda: handlers.get_association(
                unit_of_work=provider.get_dependency(context),
                now=datetime.now(UTC),
                token=caller_token,
                association_id=association_id_of(association_id),
            )

        # One worker instance, its unit of work renewed per call as nameko's injection would.
        service = worker_factory(RegistryService, clock=lambda: datetime.now(UTC))

        def entrypoint(caller_token):
            def call():
                service.unit_of_work = provider.get_dependency(worker_ctx)
                return service.get_association(caller_token, association_id)

            return call

        print(f"{provider.engine.url.get_backend_name()}, {arguments.calls} calls each, CPU µs per call")
        for caller, caller_token in (("anonymous", None), ("signed in", token)):
            print(f"  handler,    {caller:9}: {cpu_us_per_call(handler(caller_token), arguments.calls):7.1f}")
            writer = cpu_us_per_call(handler(caller_token, writer_ctx), arguments.calls)
            print(f"  handler,    {caller:9}, the writer's UnitOfWork: {writer:7.1f}")
        for caller, caller_token in (("anonymous", None), ("signed in", token)):
            print(f"  entrypoint, {caller:9}: {cpu_us_per_call(entrypoint(caller_token), arguments.calls):7.1f}")
        provider.engine.dispose()


if __name__ == "__main__":
    main()
