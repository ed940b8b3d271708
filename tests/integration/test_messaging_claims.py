"""Two senders never take the same due delivery: on PostgreSQL a second claim made while the first one's
transaction is still open skips the locked rows (SKIP LOCKED) instead of waiting or taking them; on both backends
a leased row is not due again until its lease runs out, and each claim counts an attempt."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.orm import sessionmaker

from servicekit.database import create_database_engine
from servicekit.migrations import upgrade
from services.messaging.deliveries import DeliveryRepository, any_due

NOW = datetime.now(UTC)


def queue(session, count: int) -> None:
    DeliveryRepository(session).queue(
        [{"message_id": uuid4(), "recipient": f"association:{uuid4()}", "channel": "email", "digest": False,
          "next_attempt_at": NOW - timedelta(seconds=1), "give_up_at": NOW + timedelta(hours=1), "created_at": NOW,
          "reference": None} for _ in range(count)]
    )  # fmt: skip
    session.commit()


def test_a_leased_row_is_not_claimed_again_until_its_lease_ends(database_url):
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        queue(session, 30)
    lease = timedelta(seconds=60)
    with sessions() as first:
        taken = DeliveryRepository(first).claim_due(now=NOW, lease=lease, limit=20)
        first.commit()
    with sessions() as second:
        rest = DeliveryRepository(second).claim_due(now=NOW, lease=lease, limit=20)
        second.commit()
    with sessions() as later:
        after_the_lease = DeliveryRepository(later).claim_due(now=NOW + lease * 2, lease=lease, limit=100)
        later.commit()
    engine.dispose()

    assert len(taken) == 20 and len(rest) == 10
    assert not {row.id for row in taken} & {row.id for row in rest}
    assert len(after_the_lease) == 30
    # An attempt counts when it is claimed: a sender that died after sending has still made it.
    assert {row.attempts for row in taken} == {1}
    assert {row.attempts for row in after_the_lease} == {2}


def test_on_postgresql_a_concurrent_claim_skips_the_rows_another_holds(postgres_databases):
    database_url = postgres_databases.create()
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        queue(session, 30)
    with sessions() as first, sessions() as second:
        taken = DeliveryRepository(first).claim_due(now=NOW, lease=timedelta(seconds=60), limit=20)
        rest = DeliveryRepository(second).claim_due(now=NOW, lease=timedelta(seconds=60), limit=20)  # first still open
        second.commit()
        first.commit()
    engine.dispose()

    assert len(taken) == 20 and len(rest) == 10
    assert not {row.id for row in taken} & {row.id for row in rest}


def test_a_sender_s_look_finds_work_whenever_a_claim_would(database_url):
    """`any_due` may say yes for nothing (a row under another sender's lease) but never no when a claim finds a row:
    an idle sender only looks, and would otherwise leave that delivery waiting."""
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with engine.connect() as connection:
        nothing_queued = any_due(connection, NOW)
    with sessions() as session:
        queue(session, 1)
    with engine.connect() as connection:
        queued = any_due(connection, NOW)
        not_yet_due = any_due(connection, NOW - timedelta(minutes=1))
    with sessions() as session:
        DeliveryRepository(session).claim_due(now=NOW, lease=timedelta(seconds=60), limit=10)
        session.commit()
    with engine.connect() as connection:
        leased = any_due(connection, NOW)
    with sessions() as session:
        sent = DeliveryRepository(session).claim_due(now=NOW + timedelta(minutes=5), lease=timedelta(seconds=60),
                                                     limit=10)  # fmt: skip
        DeliveryRepository(session).mark_sent([row.id for row in sent], NOW)
        session.commit()
    with engine.connect() as connection:
        all_sent = any_due(connection, NOW + timedelta(minutes=5))
    engine.dispose()

    assert (nothing_queued, queued, not_yet_due, leased, all_sent) == (False, True, False, True, False)
