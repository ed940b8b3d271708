"""Idempotency-Keys on SQLite and PostgreSQL: the first request's key keeps its result, a failed request leaves
no key behind, keys are per account, and keys past their time are forgotten."""

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import uuid4

import pytest
from sqlalchemy.orm import sessionmaker

from contracts.accounts import Principal
from contracts.errors import Invalid
from contracts.messaging import MessageDraft
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from services.messaging.db import Base
from services.messaging.delivery.sender import REPOSITORIES
from services.messaging.idempotency import earlier_result, forget_old_keys

NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


@pytest.fixture
def unit_of_work(database_url):
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    yield partial(UnitOfWork, sessionmaker(engine, expire_on_commit=False), Base.metadata, repositories=REPOSITORIES)
    engine.dispose()


def person() -> Principal:
    return Principal(account_id=uuid4(), email="p@example.org", display_name="Mami")


def remember(unit_of_work, principal, key, body, new_id, now=NOW, fail=False):
    with unit_of_work() as work:
        earlier = earlier_result(work, principal=principal, key=key, new_id=new_id, now=now,
                                 operation="post_message", draft=MessageDraft(body=body))  # fmt: skip
        if fail:
            raise Invalid("the request failed after the key was claimed")
        return earlier


def test_the_first_request_keeps_the_key_and_a_retry_gets_its_result(unit_of_work):
    mami, first, second = person(), uuid4(), uuid4()
    assert remember(unit_of_work, mami, "k", "f", first) is None
    assert remember(unit_of_work, mami, "k", "f", second) == first
    with pytest.raises(Invalid, match="used for a different request"):
        remember(unit_of_work, mami, "k", "another request", second)
    assert remember(unit_of_work, person(), "k", "f", second) is None, "another account's key is its own"
    assert remember(unit_of_work, mami, None, "f", second) is None, "no key: nothing remembered"


def test_a_request_that_failed_leaves_no_key_behind(unit_of_work):
    mami, first, second = person(), uuid4(), uuid4()
    with pytest.raises(Invalid):
        remember(unit_of_work, mami, "k", "f", first, fail=True)
    assert remember(unit_of_work, mami, "k", "f", second) is None
    assert remember(unit_of_work, mami, "k", "f", uuid4()) == second


def test_keys_past_their_time_are_forgotten(unit_of_work):
    mami, old, recent = person(), uuid4(), uuid4()
    remember(unit_of_work, mami, "old", "f", old, now=NOW - timedelta(hours=25))
    remember(unit_of_work, mami, "recent", "f", recent, now=NOW - timedelta(hours=23))
    assert forget_old_keys(unit_of_work=unit_of_work, now=NOW, kept=timedelta(hours=24)) == 1
    assert remember(unit_of_work, mami, "old", "f", uuid4()) is None
    assert remember(unit_of_work, mami, "recent", "f", uuid4()) == recent
