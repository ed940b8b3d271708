"""One contract for the account repository, run on every implementation: in memory, SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import uuid4

import pytest
from sqlalchemy.orm import sessionmaker

from contracts.errors import Conflict
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from services.registry.accounts import domain
from services.registry.accounts.domain import AccountPolicy, LoginSession
from services.registry.accounts.repository import PRINCIPAL_BY_SESSION, AccountRepository
from services.registry.db import AssociationAdminRecord, AssociationRecord, Base, IndividualRecord
from tests.accounts_fakes import InMemoryAccountStore

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sql_engine(database_url):
    upgrade("services.registry", database_url)
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def sql_unit_of_work(engine):
    return partial(
        UnitOfWork,
        sessionmaker(engine, expire_on_commit=False),
        Base.metadata,
        repositories={"accounts": AccountRepository},
    )


def account(email: str = "lalremruata@example.org", **changes) -> domain.Account:
    return domain.new_account(
        email=email, display_name="Lalremruata", password_hash="$argon2id$stand-in", now=NOW, **changes
    )


def added(unit_of_work, **changes) -> domain.Account:
    new = account(**changes)
    with unit_of_work() as work:
        work.accounts.add(new)
    return new


def opened(unit_of_work, account_id, *, now=NOW, lifetime=timedelta(days=14), idle=timedelta(days=30)) -> str:
    token, session = domain.open_session(
        account_id=account_id, now=now, policy=AccountPolicy(session_lifetime=lifetime, idle_timeout=idle)
    )
    with unit_of_work() as work:
        work.accounts.add_session(session)
    return token


def principal(unit_of_work, token: str, now=NOW):
    with unit_of_work() as work:
        return work.accounts.principal_for_session(domain.token_hash(token), now)


class AccountRepositoryContract:
    """What every account repository does; each subclass gives a `unit_of_work` factory of its kind."""

    def test_an_added_account_is_found_by_id_and_by_email(self, unit_of_work):
        new = added(unit_of_work, is_cell_staff=True)

        with unit_of_work() as work:
            assert work.accounts.get(new.id) == new
            assert work.accounts.get_by_email("lalremruata@example.org") == new
            assert work.accounts.get_by_email("someone.else@example.org") is None
            assert work.accounts.get(uuid4()) is None

    def test_a_second_account_with_the_same_email_is_a_conflict_and_changes_nothing(self, unit_of_work):
        first = added(unit_of_work)

        with pytest.raises(Conflict, match="already exists"), unit_of_work() as work:
            work.accounts.add(account())

        with unit_of_work() as work:
            assert work.accounts.get_by_email(first.email) == first

    def test_nothing_is_kept_from_a_unit_of_work_that_raised(self, unit_of_work):
        new = account()

        with pytest.raises(RuntimeError), unit_of_work() as work:
            work.accounts.add(new)
            raise RuntimeError("something failed after the change")

        with unit_of_work() as work:
            assert work.accounts.get(new.id) is None

    def test_a_password_change_is_kept_with_its_time(self, unit_of_work):
        new = added(unit_of_work)
        later = NOW + timedelta(days=3)

        with unit_of_work() as work:
            work.accounts.change_password(new.id, "$argon2id$another", later)

        with unit_of_work() as work:
            changed = work.accounts.get(new.id)
        assert changed.password_hash == "$argon2id$another"
        assert changed.password_changed_at == later
        assert changed.created_at == NOW

    def test_a_session_gives_its_principal_until_it_expires(self, unit_of_work):
        new = added(unit_of_work, is_cell_staff=True)
        token = opened(unit_of_work, new.id, lifetime=timedelta(days=1))

        found = principal(unit_of_work, token, NOW + timedelta(hours=23))

        assert found.account_id == new.id
        assert found.email == new.email
        assert found.display_name == "Lalremruata"
        assert found.is_cell_staff is True
        assert principal(unit_of_work, token, NOW + timedelta(days=1)) is None
        assert principal(unit_of_work, "another-token") is None

    def test_a_session_is_stored_by_the_hash_of_its_token(self, unit_of_work):
        new = added(unit_of_work)
        token = opened(unit_of_work, new.id)

        with unit_of_work() as work:
            stored = work.accounts.get_session(domain.token_hash(token))
            assert work.accounts.get_session(token) is None
        assert stored == LoginSession(
            token_hash=domain.token_hash(token),
            account_id=new.id,
            created_at=NOW,
            expires_at=NOW + timedelta(days=14),
            last_seen_at=NOW,
            idle_timeout=timedelta(days=30),
        )

    def test_a_session_unused_for_its_idle_timeout_gives_no_principal_and_each_use_moves_its_last_use(
        self, unit_of_work
    ):
        new = added(unit_of_work)
        token = opened(unit_of_work, new.id, idle=timedelta(hours=2))

        assert principal(unit_of_work, token, NOW + timedelta(hours=1, minutes=59)) is not None
        assert principal(unit_of_work, token, NOW + timedelta(hours=3, minutes=58)) is not None
        with unit_of_work() as work:
            assert work.accounts.get_session(domain.token_hash(token)).last_seen_at == NOW + timedelta(
                hours=3, minutes=58
            )
        assert principal(unit_of_work, token, NOW + timedelta(hours=5, minutes=58)) is None

    def test_a_revoked_session_gives_no_principal_and_revoking_again_keeps_the_first_time(self, unit_of_work):
        new = added(unit_of_work)
        token = opened(unit_of_work, new.id)
        with unit_of_work() as work:
            work.accounts.revoke_session(domain.token_hash(token), NOW + timedelta(minutes=1))
        with unit_of_work() as work:
            work.accounts.revoke_session(domain.token_hash(token), NOW + timedelta(minutes=2))
            work.accounts.revoke_session("no such hash", NOW)

        assert principal(unit_of_work, token) is None
        with unit_of_work() as work:
            assert work.accounts.get_session(domain.token_hash(token)).revoked_at == NOW + timedelta(minutes=1)

    def test_revoking_an_accounts_sessions_can_keep_one_and_leaves_other_accounts_alone(self, unit_of_work):
        mine, theirs = added(unit_of_work), added(unit_of_work, email="zoramthanga@example.org")
        phone, laptop, tablet = (opened(unit_of_work, mine.id) for _ in range(3))
        other = opened(unit_of_work, theirs.id)

        with unit_of_work() as work:
            work.accounts.revoke_sessions(mine.id, NOW, keep_token_hash=domain.token_hash(laptop))

        assert principal(unit_of_work, phone) is None
        assert principal(unit_of_work, tablet) is None
        assert principal(unit_of_work, laptop).account_id == mine.id
        assert principal(unit_of_work, other).account_id == theirs.id
        with unit_of_work() as work:
            work.accounts.revoke_sessions(mine.id, NOW)
        assert principal(unit_of_work, laptop) is None

    def test_expired_sessions_of_an_account_can_be_deleted(self, unit_of_work):
        new = added(unit_of_work)
        old = opened(unit_of_work, new.id, lifetime=timedelta(days=1))
        current = opened(unit_of_work, new.id, lifetime=timedelta(days=14))

        with unit_of_work() as work:
            work.accounts.delete_expired_sessions(new.id, NOW + timedelta(days=2))

        with unit_of_work() as work:
            assert work.accounts.get_session(domain.token_hash(old)) is None
            assert work.accounts.get_session(domain.token_hash(current)) is not None

    def test_pruning_removes_only_sessions_and_throttles_that_can_no_longer_matter(self, unit_of_work):
        new = added(unit_of_work)
        expired = opened(unit_of_work, new.id, lifetime=timedelta(days=1))
        revoked_long_ago = opened(unit_of_work, new.id)
        revoked_just_now = opened(unit_of_work, new.id)
        current = opened(unit_of_work, new.id)
        policy = AccountPolicy()
        later = NOW + timedelta(days=3)
        with unit_of_work() as work:
            work.accounts.revoke_session(domain.token_hash(revoked_long_ago), NOW)
            work.accounts.revoke_session(domain.token_hash(revoked_just_now), later - timedelta(hours=1))
            old = work.accounts.throttle_for_update("account:old@example.org", NOW)
            work.accounts.save_throttle(old.after_failure(NOW, limit=5, policy=policy))
            # Its window began 16 minutes ago, but the failure that locked it came 2 minutes ago.
            locked = work.accounts.throttle_for_update("address:203.0.113.9", later - timedelta(minutes=16))
            locked = locked.after_failure(later - timedelta(minutes=16), limit=2, policy=policy)
            work.accounts.save_throttle(locked.after_failure(later - timedelta(minutes=2), limit=2, policy=policy))
            work.accounts.throttle_for_update("account:fresh@example.org", later - timedelta(minutes=1))

        with unit_of_work() as work:
            assert work.accounts.prune(later, failure_window=policy.failure_window) == 3

        with unit_of_work() as work:
            kept = {token: work.accounts.get_session(domain.token_hash(token)) is not None
                    for token in (expired, revoked_long_ago, revoked_just_now, current)}  # fmt: skip
            throttles = {throttle.key for throttle in work.accounts.throttles(
                ["account:old@example.org", "address:203.0.113.9", "account:fresh@example.org"])}  # fmt: skip
        assert kept == {expired: False, revoked_long_ago: False, revoked_just_now: True, current: True}
        assert throttles == {"address:203.0.113.9", "account:fresh@example.org"}

    def test_a_throttle_starts_empty_is_saved_read_back_and_cleared(self, unit_of_work):
        with unit_of_work() as work:
            assert work.accounts.throttles(["account:lal@example.org"]) == []
            fresh = work.accounts.throttle_for_update("account:lal@example.org", NOW)
            assert fresh == domain.Throttle(key="account:lal@example.org", failures=0, window_started_at=NOW)
            work.accounts.save_throttle(fresh.after_failure(NOW, limit=1, policy=AccountPolicy()))
        with unit_of_work() as work:
            work.accounts.throttle_for_update("address:203.0.113.7", NOW)

        with unit_of_work() as work:
            [locked] = work.accounts.throttles(["account:lal@example.org", "account:nobody@example.org"])
            assert locked.failures == 1
            assert locked.locked_until == NOW + timedelta(minutes=15)
            assert work.accounts.throttle_for_update("account:lal@example.org", NOW + timedelta(hours=1)) == locked
            work.accounts.clear_throttle("account:lal@example.org")
            work.accounts.clear_throttle("account:never-there@example.org")

        with unit_of_work() as work:
            assert work.accounts.throttles(["account:lal@example.org"]) == []
            assert [throttle.key for throttle in work.accounts.throttles(["address:203.0.113.7"])] == [
                "address:203.0.113.7"
            ]


class TestInMemoryAccountRepository(AccountRepositoryContract):
    @pytest.fixture
    def unit_of_work(self):
        return InMemoryAccountStore()


class TestSqlAccountRepository(AccountRepositoryContract):
    """Run on SQLite and on PostgreSQL (tests/conftest.py's database_url)."""

    @pytest.fixture
    def unit_of_work(self, sql_engine):
        return sql_unit_of_work(sql_engine)


def test_the_principal_lists_what_the_account_administers_and_its_individual(sql_engine):
    """SQL only: associations and individuals live in the registry's other tables."""
    unit_of_work = sql_unit_of_work(sql_engine)
    new = added(unit_of_work)
    token = opened(unit_of_work, new.id)
    verified_id, pending_id, individual_id = uuid4(), uuid4(), uuid4()
    with sessionmaker(sql_engine)() as session:
        for association_id, status in ((verified_id, "verified"), (pending_id, "pending")):
            session.add(
                AssociationRecord(
                    id=association_id,
                    name="Mizo Fellowship",
                    country="SG",
                    status=status,
                    version=1,
                    registered_at=NOW,
                    updated_at=NOW,
                    document={},
                )
            )
            session.flush()
            session.add(AssociationAdminRecord(association_id=association_id, account_id=new.id, granted_at=NOW))
        session.add(
            IndividualRecord(
                id=individual_id,
                account_id=new.id,
                name="Lalremruata",
                country="SG",
                city="Singapore",
                languages=["lus"],
                visibility="private",
                version=1,
                registered_at=NOW,
                updated_at=NOW,
            )
        )
        session.commit()

    found = principal(unit_of_work, token)

    assert {(item.id, item.verified) for item in found.administers} == {(verified_id, True), (pending_id, False)}
    assert found.individual_id == individual_id


def test_the_sign_in_query_reads_only_the_accounts_own_rows_by_their_indexes(tmp_path):
    """Its cost must not grow with the directory: no table is scanned whole (a join onto a nested join was, in
    SQLite, every admin of every association for each signed-in request)."""
    database_url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    upgrade("services.registry", database_url)
    engine = create_database_engine(database_url)
    try:
        statement = PRINCIPAL_BY_SESSION.compile(engine)
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", tuple(statement.construct_params({"token_hash": "x"}).values())
            ).all()
    finally:
        engine.dispose()
    steps = [step.detail for step in plan]
    assert any(step.startswith("SEARCH association_admins USING INDEX") for step in steps)
    assert not [step for step in steps if step.startswith("SCAN") or "MATERIALIZE" in step]
