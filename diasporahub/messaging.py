"""`diasporahub messaging rebuild-directory`: messaging reads the whole directory from the registry again.
`diasporahub messaging verify-directory`: messaging's copy of the directory against the registry, read-only.

The check reads messaging's database itself (its URL, as `backup` does) and the registry's `associations_after`
pages, as messaging's rebuild does; it writes nothing. It compares what messaging keeps of each association
(`directory_associations`); memberships and the admins of each association come from events the registry offers
no export of, so they are not compared.
"""

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts.associations import AssociationV1
from contracts.errors import DiasporaHubError
from contracts.messaging import DirectoryRebuild
from servicekit.rpc import call_service
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.db import DirectoryAssociation
from services.messaging.directory import directory_columns
from services.messaging.settings import MessagingSettings

REBUILD_TIMEOUT_SECONDS = 600.0
PAGE_SIZE = 500
COMPARED = ("name", "status", "country", "city", "languages", "categories", "parent_id", "email")
"""The columns of `directory_associations` that come from the registry (services/messaging/directory.py)."""


def rebuild_directory() -> int:
    try:
        answer = call_service(BusSettings(), "messaging", "rebuild_directory", timeout_seconds=REBUILD_TIMEOUT_SECONDS)
    except DiasporaHubError as exc:
        print(f"diasporahub: the directory was not rebuilt: {exc.message}", file=sys.stderr)
        return 1
    rebuilt = DirectoryRebuild.model_validate(answer)
    print(f"Messaging's directory rebuilt from the registry: {rebuilt.associations} associations.")
    return 0


@dataclass(frozen=True)
class DirectoryDifference:
    association_id: UUID
    kind: Literal["missing", "stale", "ahead", "differs", "extra"]
    directory_version: int | None = None
    registry_version: int | None = None

    def __str__(self) -> str:
        held, known = self.directory_version, self.registry_version
        explained = {
            "missing": f"is in the registry (version {known}) but not in messaging's directory",
            "stale": f"is at version {held} in messaging's directory, {known} in the registry",
            "ahead": f"is at version {held} in messaging's directory, only {known} in the registry",
            "differs": f"differs between messaging's directory and the registry at the same version {held}",
            "extra": f"is in messaging's directory (version {held}) but not in the registry",
        }
        return f"association {self.association_id} {explained[self.kind]}"


def directory_differences(
    stored: dict[UUID, tuple[dict, int]], registry: Iterable[AssociationV1]
) -> list[DirectoryDifference]:
    """`stored`: each association's compared columns and version in messaging's directory. Read it before the
    registry: an event handled meanwhile can then only make the registry look newer, which a rebuild puts right."""
    stored = dict(stored)
    found = []
    for association in registry:
        columns, version = stored.pop(association.id, (None, None))
        if version is None:
            found.append(DirectoryDifference(association.id, "missing", registry_version=association.version))
        elif version != association.version:
            change = "stale" if version < association.version else "ahead"
            found.append(DirectoryDifference(association.id, change, version, association.version))
        elif columns != directory_columns(association):
            found.append(DirectoryDifference(association.id, "differs", version, association.version))
    found += [DirectoryDifference(key, "extra", directory_version=version) for key, (_, version) in stored.items()]
    return found


def stored_directory(database_url: str) -> dict[UUID, tuple[dict, int]]:
    """Messaging's directory, opened read-only (a SQLite file in `mode=ro`, a PostgreSQL read-only transaction)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true")
        options = {}
    else:
        engine = create_engine(url)
        options = {"postgresql_readonly": True}
    columns = [getattr(DirectoryAssociation, name) for name in COMPARED]
    try:
        with engine.connect().execution_options(**options) as connection:
            rows = connection.execute(select(DirectoryAssociation.id, DirectoryAssociation.version, *columns)).all()
    finally:
        engine.dispose()
    return {
        row.id: ({name: list(value) if name in ("languages", "categories") else value
                  for name, value in zip(COMPARED, row[2:], strict=True)}, row.version)
        for row in rows
    }  # fmt: skip


def registry_associations(registry: RpcClient) -> Iterator[AssociationV1]:
    after_id = None
    while True:
        page = [AssociationV1.model_validate(item) for item in
                registry.call("registry", "associations_after", after_id, PAGE_SIZE)]  # fmt: skip
        yield from page
        if len(page) < PAGE_SIZE:
            return
        after_id = str(page[-1].id)


def verify_directory() -> int:
    """0 when messaging's directory agrees with the registry, 1 when it differs (each difference printed), 2 when
    either could not be read."""
    try:
        stored = stored_directory(MessagingSettings().database_url)
    except SQLAlchemyError as exc:
        print(f"diasporahub messaging: messaging's database could not be read: {exc}", file=sys.stderr)
        return 2
    try:
        with RpcClient(BusSettings()) as registry:
            found = directory_differences(stored, registry_associations(registry))
    except DiasporaHubError as exc:
        print(f"diasporahub messaging: the registry's associations could not be read: {exc.message}", file=sys.stderr)
        return 2
    for difference in found:
        print(difference)
    print(f"{len(found)} differences between messaging's directory and the registry")
    return 1 if found else 0
