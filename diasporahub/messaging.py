"""`diasporahub messaging rebuild-directory`: messaging reads the whole directory from the registry again.
`diasporahub messaging verify-directory`: messaging's copy of the directory against the registry, read-only.

The check reads messaging's database itself (its URL, as `backup` does) and the registry's `associations_after` and
`memberships_after` pages, as messaging's rebuild does; it writes nothing. It compares what messaging keeps of each
association (`directory_associations`) and of each membership (`directory_memberships`: status, individual and
association). The admins of each association are not compared: the registry offers no export of them, and nothing
in messaging reads them.
"""

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Literal
from uuid import UUID

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from contracts.associations import AssociationV1
from contracts.errors import DiasporaHubError
from contracts.individuals import VersionedMembership
from contracts.messaging import DirectoryRebuild
from servicekit.paging import pages_after
from servicekit.rpc import call_service
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.messaging.db import DirectoryAssociation, DirectoryMembership
from services.messaging.directory import directory_columns, membership_columns
from services.messaging.settings import MessagingSettings

REBUILD_TIMEOUT_SECONDS = 600.0
PAGE_SIZE = 500
COMPARED = ("name", "status", "country", "city", "languages", "categories", "parent_id", "email")
"""The columns of `directory_associations` that come from the registry (services/messaging/directory.py)."""
COMPARED_OF_MEMBERSHIPS = ("status", "individual_id", "association_id")
"""The columns of `directory_memberships` that come from the registry."""
Entry = Literal["association", "membership"]
Stored = dict[UUID, tuple[dict, int]]
"""Each entry's compared columns and version in messaging's directory, by id."""


def rebuild_directory() -> int:
    try:
        answer = call_service(BusSettings(), "messaging", "rebuild_directory", timeout_seconds=REBUILD_TIMEOUT_SECONDS)
    except DiasporaHubError as exc:
        print(f"diasporahub: the directory was not rebuilt: {exc.message}", file=sys.stderr)
        return 1
    rebuilt = DirectoryRebuild.model_validate(answer)
    print(
        f"Messaging's directory rebuilt from the registry: {rebuilt.associations} associations, "
        f"{rebuilt.memberships} memberships."
    )
    return 0


@dataclass(frozen=True)
class DirectoryDifference:
    id: UUID
    kind: Literal["missing", "stale", "ahead", "differs", "extra"]
    directory_version: int | None = None
    registry_version: int | None = None
    entry: Entry = "association"

    def __str__(self) -> str:
        held, known = self.directory_version, self.registry_version
        explained = {
            "missing": f"is in the registry (version {known}) but not in messaging's directory",
            "stale": f"is at version {held} in messaging's directory, {known} in the registry",
            "ahead": f"is at version {held} in messaging's directory, only {known} in the registry",
            "differs": f"differs between messaging's directory and the registry at the same version {held}",
            "extra": f"is in messaging's directory (version {held}) but not in the registry",
        }
        return f"{self.entry} {self.id} {explained[self.kind]}"


def directory_differences(stored: Stored, registry: Iterable[AssociationV1]) -> list[DirectoryDifference]:
    """`stored`: each association's compared columns and version in messaging's directory. Read it before the
    registry: an event handled meanwhile can then only make the registry look newer, which a rebuild puts right."""
    held = ((association.id, directory_columns(association), association.version) for association in registry)
    return _differences(stored, held, "association")


def membership_differences(stored: Stored, registry: Iterable[VersionedMembership]) -> list[DirectoryDifference]:
    """As `directory_differences`, for memberships."""
    held = ((item.membership.id, membership_columns(item.membership), item.version) for item in registry)
    return _differences(stored, held, "membership")


def _differences(stored: Stored, registry: Iterable[tuple[UUID, dict, int]], entry: Entry) -> list[DirectoryDifference]:
    stored = dict(stored)
    found = []
    for key, known_columns, known in registry:
        columns, version = stored.pop(key, (None, None))
        if version is None:
            found.append(DirectoryDifference(key, "missing", registry_version=known, entry=entry))
        elif version != known:
            found.append(DirectoryDifference(key, "stale" if version < known else "ahead", version, known, entry))
        elif columns != known_columns:
            found.append(DirectoryDifference(key, "differs", version, known, entry))
    found += [
        DirectoryDifference(key, "extra", directory_version=version, entry=entry)
        for key, (_, version) in stored.items()
    ]
    return found


@dataclass(frozen=True)
class StoredDirectory:
    associations: Stored
    memberships: Stored


def stored_directory(database_url: str) -> StoredDirectory:
    """Messaging's directory, opened read-only (a SQLite file in `mode=ro`, a PostgreSQL read-only transaction)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true")
        options = {}
    else:
        engine = create_engine(url)
        options = {"postgresql_readonly": True}
    columns = [getattr(DirectoryAssociation, name) for name in COMPARED]
    kept_of_memberships = [getattr(DirectoryMembership, name) for name in COMPARED_OF_MEMBERSHIPS]
    try:
        with engine.connect().execution_options(**options) as connection:
            rows = connection.execute(select(DirectoryAssociation.id, DirectoryAssociation.version, *columns)).all()
            memberships = connection.execute(
                select(DirectoryMembership.id, DirectoryMembership.version, *kept_of_memberships)
            ).all()
    finally:
        engine.dispose()
    return StoredDirectory(
        associations={
            row.id: ({name: list(value) if name in ("languages", "categories") else value
                      for name, value in zip(COMPARED, row[2:], strict=True)}, row.version)
            for row in rows
        },
        memberships={
            row.id: (dict(zip(COMPARED_OF_MEMBERSHIPS, row[2:], strict=True)), row.version) for row in memberships
        },
    )  # fmt: skip


def registry_associations(registry: RpcClient) -> Iterator[AssociationV1]:
    read_after = partial(registry.call, "registry", "associations_after")
    for page in pages_after(read_after, AssociationV1.model_validate, key=lambda item: item.id, size=PAGE_SIZE):
        yield from page


def registry_memberships(registry: RpcClient) -> Iterator[VersionedMembership]:
    read_after = partial(registry.call, "registry", "memberships_after")
    parse = VersionedMembership.model_validate
    for page in pages_after(read_after, parse, key=lambda item: item.membership.id, size=PAGE_SIZE):
        yield from page


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
            found = directory_differences(stored.associations, registry_associations(registry))
            found += membership_differences(stored.memberships, registry_memberships(registry))
    except DiasporaHubError as exc:
        print(f"diasporahub messaging: the registry's directory could not be read: {exc.message}", file=sys.stderr)
        return 2
    for difference in found:
        print(difference)
    print(f"{len(found)} differences between messaging's directory and the registry")
    return 1 if found else 0
