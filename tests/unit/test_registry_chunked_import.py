"""The chunked check-then-import that the gateway and `diasporahub import associations` share."""

import json
import subprocess
import sys

from services.registry.imports.chunked import CsvChunk, ImportProgress, import_in_chunks, split_csv

HEADER = "name,country,city,languages\n"


class FakeRegistry:
    """Answers `import_associations_csv` for one chunk as the registry does: a row with country XX is bad,
    a line imported before is already imported."""

    def __init__(self, imported_before: set[int] = frozenset()):
        self.calls: list[tuple[int, bool]] = []
        self.imported = set(imported_before)

    def import_chunk(self, chunk: CsvChunk, *, dry_run: bool) -> dict:
        self.calls.append((chunk.first_line, dry_run))
        lines = range(chunk.first_line, chunk.first_line + chunk.rows)
        rows = dict(zip(lines, chunk.text.splitlines()[1:], strict=True))
        bad = [line for line, text in rows.items() if ",XX," in text]
        good = [line for line in rows if line not in bad]
        report = {
            "rows": len(rows),
            "bad_rows": [{"line": line, "problems": [{"field": "country", "problem": "unknown"}]} for line in bad],
        }
        if dry_run:
            return report | {"imported": [], "already_imported": []}
        new = [line for line in good if line not in self.imported]
        self.imported.update(new)
        return report | {
            "imported": [{"line": line, "id": f"id-{line}"} for line in new],
            "already_imported": [line for line in good if line not in new],
        }


class RecordedProgress(ImportProgress):
    def __init__(self):
        self.events: list[tuple] = []

    def checked(self, chunk):
        self.events.append(("checked", chunk.first_line))

    def checked_all(self, bad_rows):
        self.events.append(("checked_all", [bad["line"] for bad in bad_rows]))

    def imported(self, chunk):
        self.events.append(("imported", chunk.first_line))


def csv_of(*countries: str) -> str:
    return HEADER + "".join(f"Mizo Fellowship {n},{country},Town,lus\n" for n, country in enumerate(countries))


def test_every_chunk_is_checked_before_any_is_imported():
    registry = FakeRegistry()
    chunks = list(split_csv(csv_of("IN", "SG", "TH", "JP", "AE"), rows_per_chunk=2))

    import_in_chunks(chunks, registry.import_chunk)

    assert registry.calls == [(2, True), (4, True), (6, True), (2, False), (4, False), (6, False)]


def test_the_report_of_the_file_adds_up_the_chunks_in_file_order():
    registry = FakeRegistry(imported_before={3})
    chunks = list(split_csv(csv_of("IN", "SG", "XX", "JP", "XX"), rows_per_chunk=2))

    report = import_in_chunks(chunks, registry.import_chunk)

    assert report["rows"] == 5
    assert [bad["line"] for bad in report["bad_rows"]] == [4, 6]
    assert report["imported"] == [{"line": 2, "id": "id-2"}, {"line": 5, "id": "id-5"}]
    assert report["already_imported"] == [3]
    assert set(report) == {"rows", "bad_rows", "imported", "already_imported"}


def test_importing_the_same_file_again_adds_nothing():
    registry = FakeRegistry()
    chunks = list(split_csv(csv_of("IN", "SG", "TH"), rows_per_chunk=2))

    import_in_chunks(chunks, registry.import_chunk)
    again = import_in_chunks(chunks, registry.import_chunk)

    assert again["imported"] == []
    assert again["already_imported"] == [2, 3, 4]


def test_progress_hears_of_each_check_then_the_bad_rows_then_each_import():
    progress = RecordedProgress()
    chunks = list(split_csv(csv_of("IN", "XX", "TH"), rows_per_chunk=2))

    import_in_chunks(chunks, FakeRegistry().import_chunk, progress=progress)

    assert progress.events == [("checked", 2), ("checked", 4), ("checked_all", [3]), ("imported", 2), ("imported", 4)]


def test_the_client_side_imports_neither_nameko_nor_sqlalchemy():
    code = "import json, sys\nimport services.registry.imports.chunked\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)

    assert [name for name in loaded if name.partition(".")[0] in {"nameko", "sqlalchemy", "kombu", "eventlet"}] == []
