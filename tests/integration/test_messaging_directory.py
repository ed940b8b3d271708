"""Messaging's directory rebuilt from the registry's `associations_after` and `memberships_after` pages: everything
comes back, so an association's broadcast reaches its members again (and no one who deleted their profile), and a
newer version that arrived by event meanwhile is not undone by an older page."""

from datetime import UTC, datetime
from functools import partial
from uuid import uuid4

from sqlalchemy.orm import sessionmaker

from contracts.associations import AssociationV1
from contracts.individuals import MembershipV1
from servicekit.database import UnitOfWork, create_database_engine
from servicekit.migrations import upgrade
from services.messaging import handlers
from services.messaging.db import Base
from services.messaging.delivery.sender import REPOSITORIES


def association(number: int, version: int = 1, status: str = "verified") -> AssociationV1:
    now = datetime.now(UTC)
    return AssociationV1(
        id=uuid4(), name=f"Association {number}", country="IN", city="Pune", languages=["lus"],
        email=f"a{number}@example.org", status=status, version=version, registered_at=now, updated_at=now,
    )  # fmt: skip


def membership(association_id, status: str = "accepted", anonymised: bool = False) -> MembershipV1:
    return MembershipV1(id=uuid4(), individual_id=None if anonymised else uuid4(), association_id=association_id,
                        status=status, requested_at=datetime.now(UTC))  # fmt: skip


def pages_of(items: list[dict], key):
    """A registry RPC answering `items` (JSON dicts) in id order after `after_id`, `limit` at a time."""
    ordered = sorted(items, key=key)

    def after(after_id, limit):
        return [item for item in ordered if after_id is None or key(item) > after_id][:limit]

    return after


def test_the_directory_is_rebuilt_page_by_page_keeping_newer_versions(database_url):
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    unit_of_work = partial(UnitOfWork, sessionmaker(engine, expire_on_commit=False), Base.metadata,
                           repositories=REPOSITORIES)  # fmt: skip
    registry = [association(n) for n in range(1203)]
    newer = registry[7].model_copy(update={"version": 5, "status": "suspended"})
    club = registry[0].id
    accepted = [membership(club) for _ in range(501)]
    left_meanwhile = membership(club)
    # The registry empties a deleted person's memberships without a new version.
    anonymised_since = membership(club, anonymised=True)
    memberships = [
        *((each, 2) for each in accepted),
        (left_meanwhile, 2),
        (anonymised_since, 2),
        (membership(club, status="requested"), 1),
        (membership(registry[1].id), 2),
    ]
    with unit_of_work() as work:
        work.directory.put_association(newer, None)
        work.directory.put_membership(left_meanwhile.model_copy(update={"status": "withdrawn"}), 3)
        work.directory.put_membership(anonymised_since.model_copy(update={"individual_id": uuid4()}), 2)

    assert handlers.rebuild_directory(
        unit_of_work=unit_of_work,
        associations_after=pages_of([a.model_dump(mode="json") for a in registry], key=lambda item: item["id"]),
        memberships_after=pages_of(
            [{"membership": each.model_dump(mode="json"), "version": version} for each, version in memberships],
            key=lambda item: item["membership"]["id"],
        ),
    ) == (1203, 505)  # fmt: skip
    with unit_of_work() as work:
        assert len(work.directory.verified()) == 1202
        assert work.directory.associations([newer.id])[newer.id].status == "suspended"
        assert sorted(work.directory.members_of(club)) == sorted(each.individual_id for each in accepted)
    engine.dispose()
