"""The Cell's import of a large CSV file, from outside the registry: the file crosses the bus in chunks of
whole rows (each a CSV of its own, with the header), every chunk is checked before any is imported.

The gateway's `POST /api/v1/admin/imports` and `diasporahub import associations` both call `import_in_chunks`,
each with its own way of making the `import_associations_csv` RPC. This module imports neither nameko nor
SQLAlchemy: it is the registry's client side.
"""

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ROWS_PER_CHUNK = 500

ChunkReport = Mapping[str, Any]
"""The `import_associations_csv` RPC's answer for one chunk: `rows`, `bad_rows`, `imported`, `already_imported`."""


@dataclass(frozen=True)
class CsvChunk:
    first_line: int
    """The file's line number of the chunk's first data row, so reports name lines of the whole file."""
    rows: int
    text: str


class ImportChunk(Protocol):
    """One `import_associations_csv` RPC: the chunk's text and first line, the caller's token and `verified`."""

    def __call__(self, chunk: CsvChunk, *, dry_run: bool) -> ChunkReport: ...


class ImportProgress:
    """What `import_in_chunks` tells its caller as it goes; does nothing unless overridden."""

    def checked(self, chunk: CsvChunk) -> None:
        """One chunk was checked (a dry run)."""

    def checked_all(self, bad_rows: list[Any]) -> None:
        """Every chunk was checked; the import begins. `bad_rows` are the rows that will not be imported."""

    def imported(self, chunk: CsvChunk) -> None:
        """One chunk was imported."""


def split_csv(text: str, rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[CsvChunk]:
    """Split on rows, not lines: a quoted value may hold a line break."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    batch: list[list[str]] = []
    first_line = last_line = reader.line_num
    for row in reader:
        if not batch:
            first_line = last_line + 1
        last_line = reader.line_num
        batch.append(row)  # a blank line is kept, as an empty line, so that line numbers stay the file's
        if len(batch) == rows_per_chunk:
            yield _chunk(header, batch, first_line)
            batch = []
    if batch:
        yield _chunk(header, batch, first_line)


def import_in_chunks(
    chunks: Sequence[CsvChunk],
    import_chunk: ImportChunk,
    *,
    progress: ImportProgress | None = None,
) -> dict[str, Any]:
    """Check every chunk (dry runs), then import every chunk; the report of the whole file, shaped as a chunk's.

    The import pass runs even when some rows are bad: the registry skips those rows, and a row imported
    before is skipped rather than doubled, so importing the same file again adds nothing.
    """
    progress = progress or ImportProgress()
    checked = []
    for chunk in chunks:
        checked.append(import_chunk(chunk, dry_run=True))
        progress.checked(chunk)
    bad_rows = [bad for report in checked for bad in report["bad_rows"]]
    progress.checked_all(bad_rows)
    imported = []
    for chunk in chunks:
        imported.append(import_chunk(chunk, dry_run=False))
        progress.imported(chunk)
    return {
        "rows": sum(report["rows"] for report in checked),
        "bad_rows": bad_rows,
        "imported": [row for report in imported for row in report["imported"]],
        "already_imported": [line for report in imported for line in report["already_imported"]],
    }


def _chunk(header: list[str], rows: list[list[str]], first_line: int) -> CsvChunk:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return CsvChunk(first_line=first_line, rows=sum(1 for row in rows if row), text=out.getvalue())
