# The CPU a post costs messaging's entrypoint itself, without the bus or the gateway: what `post_message` does per
# request (the arguments parsed from JSON as the gateway sends them, its unit of work with the answered request
# recorded, the handler, the answer dumped and stored), on SQLite or PostgreSQL, in this one process, and the
# delivery sender's work after (CPU it spends in the same process, in batches): planning the posts' deliveries, then
# sending them (e-mails to an SMTP server in its own process, as benchmarks/messaging.py sends them). It prints CPU
# microseconds and SQL statements per post, and with --profile the functions that took the most in either part; it
# asserts nothing. Time on a shared machine is noisy; process CPU is less so.
#
#     .venv/bin/python benchmarks/messaging_post_cpu.py
#     .venv/bin/python benchmarks/messaging_post_cpu.py --postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
#     .venv/bin/python benchmarks/messaging_post_cpu.py --posts 2000 --profile post

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import psycopg2
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nameko.testing.services import worker_factory  # noqa: E402

from contracts.accounts import AdministeredAssociation, Principal  # noqa: E402
from contracts.associations import AssociationV1  # noqa: E402
from contracts.messaging import ConversationDraft, MessageDraft  # noqa: E402
from servicekit import answered_requests  # noqa: E402
from servicekit.database import UnitOfWork, create_database_engine  # noqa: E402
from servicekit.migrations import upgrade  # noqa: E402
from services.messaging import handlers, planning  # noqa: E402
from services.messaging.db import Base  # noqa: E402
from services.messaging.delivery.sender import REPOSITORIES, DeliveryRounds  # noqa: E402
from services.messaging.domain import Policy  # noqa: E402
from services.messaging.markup import render  # noqa: E402
from services.messaging.service import MessagingService  # noqa: E402
from services.messaging.settings import MessagingSettings  # noqa: E402
from tests.messaging_servers import SmtpServer  # noqa: E402

BODY = "A message posted by the benchmark, with *a little* Markdown."


def scratch_url(postgres: str | None, folder: str) -> str:
    if postgres is None:
        return f"sqlite:///{folder}/messaging.sqlite3"
    from messaging import scratch_database  # the whole-system benchmark's, which makes a database on the server

    return scratch_database(postgres, Path(folder), "post_cpu")


def drop_scratch(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    connection = psycopg2.connect(host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
    connection.close()


def association(name: str) -> AssociationV1:
    now = datetime.now(UTC)
    return AssociationV1(id=uuid.uuid4(), name=name, country="IN", city="Bengaluru", languages=["lus"],
                         email=f"{name.lower()}@example.org", status="verified", version=1, registered_at=now,
                         updated_at=now)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per post of messaging's post_message handler, in process.")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: a scratch database is made on it")
    parser.add_argument(
        "--profile", choices=("post", "sender"), help="print the functions that took the most time in either part"
    )
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime (own time) or cumulative")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="messaging-post-cpu-") as folder,
        SmtpServer(Path(folder) / "maildir") as smtp,
    ):
        url = scratch_url(args.postgres, folder)
        try:
            upgrade("services.messaging", url)
            engine = create_database_engine(url)
            session_factory = sessionmaker(engine, expire_on_commit=False)
            statements = [0]

            def count_statement(*_) -> None:
                statements[0] += 1

            event.listen(engine, "before_cursor_execute", count_statement)
            a, b = association("A"), association("B")
            plain = partial(UnitOfWork, session_factory, Base.metadata, repositories=REPOSITORIES)
            with plain() as work:
                work.directory.put_association(a, None)
                work.directory.put_association(b, None)
            admin = Principal(account_id=uuid.uuid4(), email="admin@example.org", display_name="Admin",
                              administers=[AdministeredAssociation(id=a.id, country="IN", verified=True)])  # fmt: skip
            # The default limit, 30 posts a minute, and a clock that moves 2.5 s a post: an account always near its
            # limit, whose recent posts (24) are counted at each post, as the service counts them.
            policy = Policy(retry_window=timedelta(days=1))
            clock = itertools.count()
            # Posted in the past, so that the sender finds their deliveries due.
            start = datetime.now(UTC) - timedelta(seconds=2.5 * (args.posts + 300))

            def now() -> datetime:
                return start + timedelta(seconds=2.5 * next(clock))

            draft = ConversationDraft(from_association_id=a.id, participants=[b.id], subject="Benchmark", body="Hello")
            started = handlers.start_conversation(unit_of_work=plain, now=now(), principal=admin, draft=draft,
                                                  render=render, policy=policy)  # fmt: skip
            # As the gateway sends them: JSON.
            caller, message = admin.model_dump(mode="json"), MessageDraft(body=BODY).model_dump(mode="json")
            service = worker_factory(MessagingService, clock=now, policy=policy)

            def post() -> None:
                """As rpc_write runs it: the arguments parsed, the request recorded with the first write, the answer
                dumped and stored."""
                record = answered_requests.RequestRecord(session_factory, Base.metadata, request_id=str(uuid.uuid4()),
                                                         method="messaging.post_message", wait_seconds=5)  # fmt: skip
                service.unit_of_work = partial(UnitOfWork, session_factory, Base.metadata, repositories=REPOSITORIES,
                                               request=record)  # fmt: skip
                record.keep_answer(service.post_message(caller, str(started.id), message, None), None)

            os.environ["MESSAGING_DATABASE_URL"] = url
            os.environ["MESSAGING_SMTP_HOST"], os.environ["MESSAGING_SMTP_PORT"] = "127.0.0.1", str(smtp.port)
            sender = DeliveryRounds(MessagingSettings())
            event.listen(sender.engine, "before_cursor_execute", count_statement)

            def plan_all() -> None:
                """The delivery sender's part of a post: its deliveries planned, 200 messages at a time."""
                while planning.plan_posted_messages(unit_of_work=plain, policy=policy, limit=200):
                    pass

            def send_all() -> None:
                """Then sent: claimed, e-mailed (to files) and settled in batches, as its rounds do."""
                while sender.send_due():
                    pass

            for _ in range(min(200, args.posts)):  # warm-up: caches, the statements' compiled forms
                post()
            plan_all()
            send_all()
            statements[0] = 0
            profiler = cProfile.Profile()
            cpu, wall = time.process_time(), time.perf_counter()
            if args.profile == "post":
                profiler.enable()
            for _ in range(args.posts):
                post()
            profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            posting_statements, statements[0] = statements[0], 0
            if args.profile == "sender":
                profiler.enable()
            planning_cpu = time.process_time()
            plan_all()
            planning_cpu = time.process_time() - planning_cpu
            planning_statements, statements[0] = statements[0], 0
            sending_cpu = time.process_time()
            send_all()
            sending_cpu = time.process_time() - sending_cpu
            profiler.disable()
            sender.close()
            engine.dispose()
        finally:
            drop_scratch(url)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"post_message on {backend}, {args.posts} posts: {cpu * 1e6 / args.posts:.0f} CPU µs per post "
          f"({wall * 1e6 / args.posts:.0f} µs wall), {posting_statements / args.posts:.1f} SQL statements per post; "
          f"the sender planning their deliveries: {planning_cpu * 1e6 / args.posts:.0f} CPU µs per post, "
          f"{planning_statements / args.posts:.2f} statements, sending them: {sending_cpu * 1e6 / args.posts:.0f} "
          f"CPU µs per post, {statements[0] / args.posts:.2f} statements; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    if args.profile:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
