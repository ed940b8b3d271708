"""PostgreSQL that cannot be reached (refused, or the connection cut under a transaction, as a restart cuts it) makes
a unit of work Unavailable with a sentence, which the gateway answers 503 with Retry-After; a service's /readyz gives
up on a database that takes connections but does not answer. The shared server is never stopped: a connection of
the test's own is terminated, and a listening socket that never answers stands for a server starting up."""

import socket

import eventlet
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from contracts.errors import Unavailable
from gateway.errors import error_response
from servicekit.database import UNREACHABLE_MESSAGE, UnitOfWork, create_database_engine
from servicekit.metrics import _database_answers
from services.registry.db import Base
from tests.messaging_servers import free_port

pytestmark = pytest.mark.postgres
# A test that hangs is a failure, not a wait.
HANG_GUARD_SECONDS = 20


def units_of_work(database_url: str):
    engine = create_database_engine(database_url)
    return engine, lambda: UnitOfWork(sessionmaker(engine, expire_on_commit=False), Base.metadata)


def test_a_refused_connection_is_unavailable_with_a_sentence_and_answered_503():
    engine, unit_of_work = units_of_work(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nowhere")
    try:
        with pytest.raises(Unavailable) as raised, unit_of_work() as work:
            work.session.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert raised.value.message == UNREACHABLE_MESSAGE
    answer = error_response(raised.value)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]


def test_a_connection_cut_under_a_transaction_is_unavailable(postgres_databases):
    engine, unit_of_work = units_of_work(postgres_databases.create())
    try:
        with pytest.raises(Unavailable), unit_of_work() as work:
            backend = work.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            work.session.execute(text("SELECT 1"))
        with unit_of_work() as work:  # the next unit of work gets a new connection
            assert work.session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_readiness_gives_up_on_a_database_that_does_not_answer():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # takes connections and never answers, as a server that is starting may
    engine = create_database_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{silent.getsockname()[1]}/nowhere")
    try:
        with eventlet.Timeout(HANG_GUARD_SECONDS, AssertionError("the readiness check did not give up")):
            assert _database_answers(engine) is False
    finally:
        engine.dispose()
        silent.close()
