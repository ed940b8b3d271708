"""Bulk import and export of associations, for the Cell; `now` is the injected clock's time."""

import logging
from collections.abc import Callable
from datetime import datetime

from contracts.associations import AssociationV1
from contracts.imports import BadImportRow, ImportedRow, ImportReport
from services.registry.accounts.handlers import authenticate
from services.registry.associations import domain
from services.registry.authorization import require_cell_staff
from services.registry.imports.csv_format import BadRow, ParsedRow, parse_csv
from services.registry.imports.look_alikes import NewAssociation, look_alikes

log = logging.getLogger(__name__)


def import_csv(
    *,
    unit_of_work: Callable,
    locate_city: domain.LocateCity,
    now: datetime,
    token: str | None,
    csv_text: str,
    first_line: int,
    verified: bool,
    dry_run: bool,
) -> ImportReport:
    """Check every row; unless it is a dry run, register the valid rows not imported before, in one
    transaction. A row imported before is skipped, not doubled."""
    rows, bad_rows = parse_csv(csv_text, first_line=first_line)
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        require_cell_staff(actor, "import associations")
        rows, orphans = _with_known_parents(work, rows)
        bad_rows = sorted([*bad_rows, *orphans], key=lambda bad: bad.line)
        checked = ImportReport(
            rows=len(rows) + len(bad_rows),
            bad_rows=[BadImportRow(line=bad.line, problems=bad.problems) for bad in bad_rows],
        )
        if dry_run:
            return checked
        imported, already_imported = _register_rows(work, locate_city, actor, rows, verified=verified, now=now)
        return checked.model_copy(update={"imported": imported, "already_imported": already_imported})


def _with_known_parents(work, rows: list[ParsedRow]) -> tuple[list[ParsedRow], list[BadRow]]:
    parents = {row.draft.parent_id for row in rows if row.draft.parent_id is not None}
    known = work.associations.existing_ids(parents) if parents else set()
    kept, orphans = [], []
    for row in rows:
        if row.draft.parent_id is None or row.draft.parent_id in known:
            kept.append(row)
        else:
            problem = f"there is no association with id {row.draft.parent_id}"
            orphans.append(BadRow(row.line, [{"field": "parent_id", "problem": problem}]))
    return kept, orphans


def _register_rows(
    work, locate_city: domain.LocateCity, actor, rows: list[ParsedRow], *, verified: bool, now: datetime
) -> tuple[list[ImportedRow], list[int]]:
    """The rows registered, and the lines of those skipped because they were imported before. The statements
    are as many for a chunk of 500 rows as for one: its look-alikes are found together, its rows added together."""
    status = "verified" if verified else "pending"
    already = work.associations.imported_keys(row.import_key for row in rows)
    imported, skipped, added, keys_in_this_batch = [], [], [], set()
    for row in rows:
        key = row.import_key
        if key in already or key in keys_in_this_batch:
            skipped.append(row.line)
            continue
        keys_in_this_batch.add(key)
        association, registered = domain.register(
            row.draft, now=now, locate_city=locate_city, actor=actor.account_id, status=status
        )
        added.append((association, key))
        work.add_event(registered)
        imported.append(ImportedRow(line=row.line, id=association.id))
    # Each row is compared with the stored associations and the rows before it in this chunk, not itself.
    new = [
        NewAssociation(association.id, association.country, (association.name, *association.alternate_names))
        for association, _key in added
    ]
    flagged = look_alikes(work.associations, new)
    work.associations.add_imported(added)
    work.associations.flag_duplicates(flagged)
    log.info("imported %d associations, skipped %d already imported", len(imported), len(skipped))
    return imported, skipped


def export_all(
    *, unit_of_work: Callable, now: datetime, token: str | None, page_size: int = 1000
) -> list[AssociationV1]:
    with unit_of_work() as work:
        actor = authenticate(work=work, token=token, now=now)
        require_cell_staff(actor, "export associations")
        exported, after = [], None
        while page := work.associations.after(after, page_size):
            exported.extend(page)
            after = page[-1].id
        return exported
