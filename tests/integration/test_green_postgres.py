"""PostgreSQL queries yield to other greenthreads (eventlet patches psycopg2), so one slow query blocks no one."""

import eventlet
from sqlalchemy import text

from servicekit.database import create_database_engine


def test_slow_queries_run_side_by_side(postgres_databases):
    engine = create_database_engine(postgres_databases.create())
    marker = "side_by_side_probe"

    def slow_query():
        with engine.connect() as connection:
            connection.execute(text(f"SELECT pg_sleep(2) AS {marker}"))

    sleepers = [eventlet.spawn(slow_query) for _ in range(3)]
    try:
        with engine.connect() as connection:
            running = 0
            with eventlet.Timeout(5):
                while running < 3:
                    eventlet.sleep(0.05)
                    running = connection.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE :pattern AND state = 'active'"),
                        {"pattern": f"%AS {marker}"},
                    ).scalar_one()
        assert running == 3
    finally:
        for sleeper in sleepers:
            sleeper.wait()
        engine.dispose()
