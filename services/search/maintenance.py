"""`diasporahub search reindex` and `diasporahub search verify [--repair]`: the index against the registry.

Both read every association from the registry's `associations_after(after_id, limit)` RPC, a
page at a time in id order. `reindex` fills a new index while the live one keeps answering and
keeps receiving events (they go to both), then switches to the new one at once.
"""

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Literal
from uuid import UUID

from tqdm import tqdm

from contracts.associations import AssociationV1
from contracts.errors import Unavailable
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.search.documents import AssociationDocument
from services.search.engines import Engine, open_engine
from services.search.settings import SearchSettings

PAGE_SIZE = 500

Progress = Callable[[int], object]


def batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def registry_associations(registry: RpcClient, page_size: int = PAGE_SIZE) -> Iterator[AssociationV1]:
    """Every association the registry holds, read lazily one page at a time."""
    after_id = None
    while True:
        page = registry.call("registry", "associations_after", after_id, page_size)
        yield from (AssociationV1.model_validate(item) for item in page)
        if len(page) < page_size:
            return
        after_id = page[-1]["id"]


def reindex(engine: Engine, associations: Iterable[AssociationV1], *, progress: Progress = lambda done: None) -> int:
    """Rebuild the association index from `associations` without downtime; returns how many were indexed.

    The new index is begun before the first association is read, so an event handled meanwhile
    reaches the new index either through the registry's export or through the double write.
    """
    with engine.unit_of_work() as work:
        work.index.begin_rebuild()
    indexed = 0
    for batch in batches(associations, PAGE_SIZE):
        with engine.unit_of_work() as work:
            work.index.put_rebuilt_associations([(AssociationDocument.of(each), each.version) for each in batch])
        indexed += len(batch)
        progress(len(batch))
    with engine.unit_of_work() as work:
        work.index.finish_rebuild()
    return indexed


@dataclass(frozen=True)
class Difference:
    association_id: UUID
    kind: Literal["missing", "stale", "ahead", "differs", "extra"]
    index_version: int | None = None
    registry_version: int | None = None

    def __str__(self) -> str:
        explained = {
            "missing": f"is in the registry (version {self.registry_version}) but not in the index",
            "stale": f"is at version {self.index_version} in the index, {self.registry_version} in the registry",
            "ahead": f"is at version {self.index_version} in the index, only {self.registry_version} in the registry",
            "differs": f"differs between the index and the registry at the same version {self.index_version}",
            "extra": f"is in the index (version {self.index_version}) but not in the registry",
        }
        return f"association {self.association_id} {explained[self.kind]}"


def differences(
    engine: Engine, associations: Iterable[AssociationV1], *, progress: Progress = lambda done: None
) -> list[Difference]:
    """Every association whose indexed version or fields differ from the registry's, and every one in excess.

    The index is read first: an event handled while the registry is read can only make the
    registry look newer, which a repair puts right.
    """
    with engine.unit_of_work() as work:
        stored = {document.id: (document, version) for document, version in work.index.stored_associations()}
    found = []
    for association in associations:
        progress(1)
        document, version = stored.pop(association.id, (None, None))
        if version is None:
            found.append(Difference(association.id, "missing", registry_version=association.version))
        elif version != association.version:
            kind = "stale" if version < association.version else "ahead"
            found.append(Difference(association.id, kind, version, association.version))
        elif document != AssociationDocument.of(association):
            found.append(Difference(association.id, "differs", version, association.version))
    found += [
        Difference(association_id, "extra", index_version=version) for association_id, (_, version) in stored.items()
    ]
    return found


def repair(engine: Engine, found: list[Difference], read_registry: Callable[[], Iterable[AssociationV1]]) -> None:
    """Put every difference right. An index ahead of the registry, or different at the same version, can only
    be put right by a rebuild (a version can be raised in place, never lowered), so then the index is rebuilt."""
    if any(difference.kind in ("ahead", "differs") for difference in found):
        reindex(engine, read_registry())
        return
    wanted = {difference.association_id for difference in found if difference.kind in ("missing", "stale")}
    # Read first, write after: an embedded index must not stay locked while the registry is asked.
    fixes = [association for association in read_registry() if association.id in wanted]
    for batch in batches(fixes, PAGE_SIZE):
        with engine.unit_of_work() as work:
            for association in batch:
                work.index.put_association(AssociationDocument.of(association), version=association.version)
    with engine.unit_of_work() as work:
        for difference in found:
            if difference.kind == "extra":
                work.index.remove_association(difference.association_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diasporahub search", description="Keep the search index in step.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reindex", help="rebuild the association index from the registry, without downtime")
    verify = commands.add_parser("verify", help="report every difference between the index and the registry")
    verify.add_argument("--repair", action="store_true", help="and put every difference right")
    args = parser.parse_args(argv)

    engine = open_engine(SearchSettings())
    try:
        with RpcClient(BusSettings()) as registry:
            if args.command == "reindex":
                return _reindex(engine, registry)
            return _verify(engine, registry, repair_them=args.repair)
    except Unavailable as exc:
        print(f"diasporahub search: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.close()


def _reindex(engine: Engine, registry: RpcClient) -> int:
    with tqdm(desc="reindexing", unit=" associations", total=_indexed_count(engine)) as bar:
        indexed = reindex(engine, registry_associations(registry), progress=bar.update)
    print(f"indexed {indexed} associations; the new index is live")
    return 0


def _verify(engine: Engine, registry: RpcClient, *, repair_them: bool) -> int:
    with tqdm(desc="comparing", unit=" associations", total=_indexed_count(engine)) as bar:
        found = differences(engine, registry_associations(registry), progress=bar.update)
    for difference in found:
        print(difference)
    print(f"{len(found)} differences between the search index and the registry")
    if found and repair_them:
        repair(engine, found, lambda: registry_associations(registry))
        print("repaired")
        return 0
    return 1 if found else 0


def _indexed_count(engine: Engine) -> int:
    """What the progress bar expects: the registry gives no count, and the index is about as large."""
    with engine.unit_of_work() as work:
        return work.index.association_count()
