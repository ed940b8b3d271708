"""A large CSV file crosses the bus in chunks of whole rows, each a CSV of its own with the header."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

ROWS_PER_CHUNK = 500


@dataclass(frozen=True)
class CsvChunk:
    first_line: int
    """The file's line number of the chunk's first data row, so reports name lines of the whole file."""
    rows: int
    text: str


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


def _chunk(header: list[str], rows: list[list[str]], first_line: int) -> CsvChunk:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return CsvChunk(first_line=first_line, rows=sum(1 for row in rows if row), text=out.getvalue())
