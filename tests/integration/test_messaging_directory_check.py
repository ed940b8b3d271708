"""`diasporahub messaging verify-directory` (and so `diasporahub verify`): messaging's copy of the directory against a
registry answering over the real broker, on SQLite and PostgreSQL; it reports every difference and writes nothing."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from contracts.individuals import MembershipV1
from diasporahub import messaging
from servicekit.migrations import upgrade
from services.messaging.db import DirectoryAssociation, DirectoryMembership
from services.messaging.directory import DirectoryRepository
from tests.integration.test_search_maintenance import association, registry  # noqa: F401 (the fixture)


def kept_by_messaging(database_url: str, *associations, version: int | None = None) -> None:
    """Through messaging's own repository, as its consumer stores the registry's events."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        for each in associations:
            held = each if version is None else each.model_copy(update={"version": version})
            DirectoryRepository(session).put_association(held, None)
        session.commit()
    engine.dispose()


def memberships_kept_by_messaging(database_url: str, *memberships: tuple[MembershipV1, int]) -> None:
    engine = create_engine(database_url)
    with Session(engine) as session:
        for membership, version in memberships:
            DirectoryRepository(session).put_membership(membership, version)
        session.commit()
    engine.dispose()


def membership(association_id, status: str = "accepted", **fields) -> MembershipV1:
    return MembershipV1(**{"id": uuid4(), "individual_id": uuid4(), "association_id": association_id,
                           "status": status, "requested_at": datetime(2026, 3, 1, tzinfo=UTC)} | fields)  # fmt: skip


def directory_rows(database_url: str) -> list[tuple]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(DirectoryAssociation.id, DirectoryAssociation.name, DirectoryAssociation.version)
            .order_by(DirectoryAssociation.id)
        ).all()  # fmt: skip
        rows += connection.execute(select(DirectoryMembership).order_by(DirectoryMembership.id)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_every_difference_is_reported_and_nothing_is_written(database_url, monkeypatch, registry, capsys):  # noqa: F811
    upgrade("services.messaging", database_url)
    monkeypatch.setenv("MESSAGING_DATABASE_URL", database_url)
    stale, differs, ahead, missing, merged, same = (
        association(name) for name in ("Stale", "Differs", "Ahead", "Missing", "Merged", "Same")
    )
    merged_away = merged.model_copy(update={"merged_into": same.id, "version": 2})
    registry.extend([stale.model_copy(update={"version": 2}), differs, ahead, missing, merged_away, same])
    extra = association("Extra")
    kept_by_messaging(database_url, stale, differs, same, extra, merged_away)
    kept_by_messaging(database_url, ahead, version=5)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(DirectoryAssociation).where(DirectoryAssociation.id == differs.id).values(city="Aizawl")
        )
    engine.dispose()
    stale_m, differs_m, ahead_m, missing_m, same_m = [membership(same.id) for _ in range(5)]
    anonymised = differs_m.model_copy(update={"individual_id": None})
    registry.extend_memberships([(stale_m.model_copy(update={"status": "withdrawn"}), 3), (anonymised, 2),
                                 (ahead_m, 1), (missing_m, 1), (same_m, 2)])  # fmt: skip
    extra_m = membership(same.id, status="requested")
    memberships_kept_by_messaging(database_url, (stale_m, 2), (differs_m, 2), (ahead_m, 4), (same_m, 2), (extra_m, 1))
    before = directory_rows(database_url)

    assert messaging.verify_directory() == 1

    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines[:-1]) == sorted([
        f"association {stale.id} is at version 1 in messaging's directory, 2 in the registry",
        f"association {differs.id} differs between messaging's directory and the registry at the same version 1",
        f"association {ahead.id} is at version 5 in messaging's directory, only 1 in the registry",
        f"association {missing.id} is in the registry (version 1) but not in messaging's directory",
        f"association {extra.id} is in messaging's directory (version 1) but not in the registry",
        f"membership {stale_m.id} is at version 2 in messaging's directory, 3 in the registry",
        f"membership {differs_m.id} differs between messaging's directory and the registry at the same version 2",
        f"membership {ahead_m.id} is at version 4 in messaging's directory, only 1 in the registry",
        f"membership {missing_m.id} is in the registry (version 1) but not in messaging's directory",
        f"membership {extra_m.id} is in messaging's directory (version 1) but not in the registry",
    ])  # fmt: skip
    assert lines[-1] == "10 differences between messaging's directory and the registry"
    assert directory_rows(database_url) == before


def test_a_directory_kept_from_the_registry_agrees_with_it(database_url, monkeypatch, registry, capsys):  # noqa: F811
    upgrade("services.messaging", database_url)
    monkeypatch.setenv("MESSAGING_DATABASE_URL", database_url)
    parent = association("Mizo Welfare Association, Delhi")
    held = [
        parent,
        association("Branch", parent_id=parent.id, categories=["cultural", "welfare"], languages=["lus", "en"]),
        association("Suspended", status="suspended", status_reason="Unpaid dues", version=3),
    ]
    registry.extend(held)
    kept_by_messaging(database_url, *held)
    memberships = [
        (membership(parent.id), 2),
        (membership(parent.id, status="requested"), 1),
        (membership(parent.id, individual_id=None), 2),
        (membership(held[1].id, status="declined"), 2),
    ]
    registry.extend_memberships(memberships)
    memberships_kept_by_messaging(database_url, *memberships)

    assert messaging.verify_directory() == 0

    assert capsys.readouterr().out.splitlines() == ["0 differences between messaging's directory and the registry"]


def test_a_database_that_cannot_be_read_is_said_plainly(tmp_path, monkeypatch, registry, capsys):  # noqa: F811
    monkeypatch.setenv("MESSAGING_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere.sqlite3'}")

    assert messaging.verify_directory() == 2

    assert "diasporahub messaging: messaging's database could not be read" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.sqlite3").exists()
