"""Messaging's directory rebuilt from the registry's `associations_after` pages: everything comes back, and a
newer version that arrived by event meanwhile is not undone by an older page."""

from datetime import UTC, datetime
from functools import partial
from uuid import uuid4

from sqlalchemy.orm import sessionmaker

from contracts.associations import AssociationV1
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


def test_the_directory_is_rebuilt_page_by_page_keeping_newer_versions(database_url):
    upgrade("services.messaging", database_url)
    engine = create_database_engine(database_url)
    unit_of_work = partial(UnitOfWork, sessionmaker(engine, expire_on_commit=False), Base.metadata,
                           repositories=REPOSITORIES)  # fmt: skip
    registry = sorted((association(n) for n in range(1203)), key=lambda a: str(a.id))
    newer = registry[7].model_copy(update={"version": 5, "status": "suspended"})
    with unit_of_work() as work:
        work.directory.put_association(newer, None)

    def associations_after(after_id, limit):
        start = 0 if after_id is None else next(i for i, a in enumerate(registry) if str(a.id) == after_id) + 1
        return [a.model_dump(mode="json") for a in registry[start : start + limit]]

    assert handlers.rebuild_directory(unit_of_work=unit_of_work, associations_after=associations_after) == 1203
    with unit_of_work() as work:
        assert len(work.directory.verified()) == 1202
        assert work.directory.associations([newer.id])[newer.id].status == "suspended"
    engine.dispose()
