"""`diasporahub search reindex` and `diasporahub search verify [--repair]`: the index against the registry.

Both read every association from the registry's `associations_after(after_id, limit)` RPC and every
individual from its `individuals_after(after_id, limit)`, a page at a time in id order. `reindex` fills
new indices while the live ones keep answering and keep receiving events (they go to both), then switches
to each new one at once.
"""

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Literal
from uuid import UUID

from tqdm import tqdm

from contracts.associations import AssociationV1
from contracts.errors import Unavailable
from contracts.individuals import IndividualProfileV1
from servicekit.paging import pages_after
from servicekit.rpc_client import RpcClient
from servicekit.settings import BusSettings
from services.search.documents import AssociationDocument, IndividualDocument
from services.search.domain import RebuildRunning
from services.search.engines import Engine, open_engine
from services.search.settings import EmbeddedEngineNeedsSQLite, SearchSettings

PAGE_SIZE = 500

Progress = Callable[[int], object]
Document = AssociationDocument | IndividualDocument


@dataclass(frozen=True)
class Record:
    """One association or individual as the registry holds it, in the form search indexes it."""

    document: Document
    version: int

    @property
    def id(self) -> UUID:
        return self.document.id


def _association_record(item: dict) -> Record:
    association = AssociationV1.model_validate(item)
    return Record(AssociationDocument.of(association), association.version)


def _individual_record(item: dict) -> Record:
    return Record(IndividualDocument.of(IndividualProfileV1.model_validate(item["individual"])), item["version"])


@dataclass(frozen=True)
class Kind:
    """What reindex and verify do for one kind of record, on the registry and on the index (`work.index`)."""

    noun: str
    plural: str
    registry_method: str
    record: Callable[[dict], Record]
    begin_rebuild: Callable[[object], None]
    put_rebuilt: Callable[[object, list[tuple[Document, int]]], None]
    finish_rebuild: Callable[[object], None]
    count: Callable[[object], int]
    stored: Callable[[object], Iterable[tuple[Document, int]]]
    put: Callable[[object, Document, int], object]
    remove: Callable[[object, UUID, int], object]
    """Forget one in excess, given the version the index holds."""


ASSOCIATIONS = Kind(
    noun="association",
    plural="associations",
    registry_method="associations_after",
    record=_association_record,
    begin_rebuild=lambda index: index.begin_rebuild(),
    put_rebuilt=lambda index, documents: index.put_rebuilt_associations(documents),
    finish_rebuild=lambda index: index.finish_rebuild(),
    count=lambda index: index.association_count(),
    stored=lambda index: index.stored_associations(),
    put=lambda index, document, version: index.put_association(document, version=version),
    remove=lambda index, association_id, _version: index.remove_association(association_id),
)

INDIVIDUALS = Kind(
    noun="individual",
    plural="individuals",
    registry_method="individuals_after",
    record=_individual_record,
    begin_rebuild=lambda index: index.begin_individual_rebuild(),
    put_rebuilt=lambda index, documents: index.put_rebuilt_individuals(documents),
    finish_rebuild=lambda index: index.finish_individual_rebuild(),
    count=lambda index: index.individual_count(),
    stored=lambda index: index.stored_individuals(),
    put=lambda index, document, version: index.put_individual(document, version=version),
    # As the registry's deletion does: a removal one version above the last, so that no older event brings them back.
    remove=lambda index, individual_id, version: index.remove_individual(individual_id, version=version + 1),
)

KINDS = (ASSOCIATIONS, INDIVIDUALS)


def batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def registry_records(registry: RpcClient, kind: Kind, page_size: int = PAGE_SIZE) -> Iterator[Record]:
    """Every record of this kind the registry holds, read lazily one page at a time."""
    read_after = partial(registry.call, "registry", kind.registry_method)
    for page in pages_after(read_after, kind.record, key=lambda record: record.id, size=page_size):
        yield from page


def reindex(engine: Engine, kind: Kind, records: Iterable[Record], *, progress: Progress = lambda done: None) -> int:
    """Rebuild the index of this kind from `records` without downtime; returns how many were indexed.

    The new index is begun before the first record is read, so an event handled meanwhile
    reaches the new index either through the registry's export or through the double write.
    """
    with engine.unit_of_work() as work:
        kind.begin_rebuild(work.index)
    indexed = 0
    for batch in batches(records, PAGE_SIZE):
        with engine.unit_of_work() as work:
            kind.put_rebuilt(work.index, [(record.document, record.version) for record in batch])
        indexed += len(batch)
        progress(len(batch))
    with engine.unit_of_work() as work:
        kind.finish_rebuild(work.index)
    return indexed


@dataclass(frozen=True)
class Difference:
    noun: str
    record_id: UUID
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
        return f"{self.noun} {self.record_id} {explained[self.kind]}"


def differences(
    engine: Engine, kind: Kind, records: Iterable[Record], *, progress: Progress = lambda done: None
) -> list[Difference]:
    """Every record whose indexed version or fields differ from the registry's, and every one in excess.

    The index is read first: an event handled while the registry is read can only make the
    registry look newer, which a repair puts right.
    """
    with engine.unit_of_work() as work:
        stored = {document.id: (document, version) for document, version in kind.stored(work.index)}
    found = []
    for record in records:
        progress(1)
        document, version = stored.pop(record.id, (None, None))
        if version is None:
            found.append(Difference(kind.noun, record.id, "missing", registry_version=record.version))
        elif version != record.version:
            change = "stale" if version < record.version else "ahead"
            found.append(Difference(kind.noun, record.id, change, version, record.version))
        elif document != record.document:
            found.append(Difference(kind.noun, record.id, "differs", version, record.version))
    found += [
        Difference(kind.noun, record_id, "extra", index_version=version) for record_id, (_, version) in stored.items()
    ]
    return found


def repair(engine: Engine, kind: Kind, found: list[Difference], read_registry: Callable[[], Iterable[Record]]) -> None:
    """Put every difference of this kind right. An index ahead of the registry, or different at the same version,
    can only be put right by a rebuild (a version can be raised in place, never lowered), so then it is rebuilt."""
    found = [difference for difference in found if difference.noun == kind.noun]
    if any(difference.kind in ("ahead", "differs") for difference in found):
        reindex(engine, kind, read_registry())
        return
    wanted = {difference.record_id for difference in found if difference.kind in ("missing", "stale")}
    # Read first, write after: an embedded index must not stay locked while the registry is asked.
    fixes = [record for record in read_registry() if record.id in wanted] if wanted else []
    for batch in batches(fixes, PAGE_SIZE):
        with engine.unit_of_work() as work:
            for record in batch:
                kind.put(work.index, record.document, record.version)
    with engine.unit_of_work() as work:
        for difference in found:
            if difference.kind == "extra":
                kind.remove(work.index, difference.record_id, difference.index_version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diasporahub search", description="Keep the search index in step.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reindex", help="rebuild the association and individual indices from the registry, live")
    verify = commands.add_parser("verify", help="report every difference between the index and the registry")
    verify.add_argument("--repair", action="store_true", help="and put every difference right")
    args = parser.parse_args(argv)

    try:
        engine = open_engine(SearchSettings())
    except EmbeddedEngineNeedsSQLite as exc:
        print(f"diasporahub search: {exc}", file=sys.stderr)
        return 2
    try:
        with RpcClient(BusSettings()) as registry:
            if args.command == "reindex":
                return _reindex(engine, registry)
            return _verify(engine, registry, repair_them=args.repair)
    except (Unavailable, RebuildRunning) as exc:
        print(f"diasporahub search: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.close()


def _reindex(engine: Engine, registry: RpcClient) -> int:
    counts = []
    for kind in KINDS:
        with tqdm(desc=f"reindexing {kind.plural}", unit=f" {kind.plural}", total=_indexed_count(engine, kind)) as bar:
            indexed = reindex(engine, kind, registry_records(registry, kind), progress=bar.update)
        counts.append(f"{indexed} {kind.plural}")
    print(f"indexed {' and '.join(counts)}; the new indices are live")
    return 0


def _verify(engine: Engine, registry: RpcClient, *, repair_them: bool) -> int:
    found: list[Difference] = []
    for kind in KINDS:
        with tqdm(desc=f"comparing {kind.plural}", unit=f" {kind.plural}", total=_indexed_count(engine, kind)) as bar:
            found += differences(engine, kind, registry_records(registry, kind), progress=bar.update)
    for difference in found:
        print(difference)
    print(f"{len(found)} differences between the search index and the registry")
    if found and repair_them:
        for kind in KINDS:
            if any(difference.noun == kind.noun for difference in found):
                repair(engine, kind, found, lambda kind=kind: registry_records(registry, kind))
        print("repaired")
        return 0
    return 1 if found else 0


def _indexed_count(engine: Engine, kind: Kind) -> int:
    """What the progress bar expects: the registry gives no count, and the index is about as large."""
    with engine.unit_of_work() as work:
        return kind.count(work.index)
