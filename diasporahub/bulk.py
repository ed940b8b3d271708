"""`diasporahub import associations FILE.csv` and `diasporahub export associations`, for the Cell.

The command signs in as a Cell staff account (DIASPORAHUB_TOKEN, or e-mail and password asked for),
checks every row first, reports each bad row with its line number, then imports with a progress bar.
"""

import getpass
import json
import os
import sys
from pathlib import Path

from services.registry.imports.chunked import CsvChunk, ImportProgress, import_in_chunks, split_csv

IMPORT_TIMEOUT_SECONDS = 120.0
# Larger than the gateway's chunks: the command line waits longer for each call, and each chunk
# loads its countries' associations once for the duplicate check.
ROWS_PER_CHUNK = 2000


def _token(client) -> str:
    token = os.environ.get("DIASPORAHUB_TOKEN")
    if token:
        return token
    if not sys.stdin.isatty():
        raise SystemExit("diasporahub: set DIASPORAHUB_TOKEN to a Cell staff session token, or run in a terminal.")
    email = input("Cell staff e-mail: ").strip()
    password = getpass.getpass("Password: ")
    code = getpass.getpass("Code from your authenticator app (or a recovery code): ").strip()
    return client.call("registry", "log_in", {"email": email, "password": password, "code": code})["token"]


def import_associations(path: Path, *, verified: bool) -> int:
    from servicekit.rpc_client import RpcClient
    from servicekit.settings import BusSettings

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"diasporahub: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    chunks = list(split_csv(text, ROWS_PER_CHUNK))
    if not chunks:
        print(f"diasporahub: {path} has no rows; the first line must name the columns.", file=sys.stderr)
        return 2
    with RpcClient(BusSettings(), timeout_seconds=IMPORT_TIMEOUT_SECONDS) as client:
        token = _token(client)

        def import_chunk(chunk: CsvChunk, *, dry_run: bool) -> dict:
            call = (token, chunk.text, chunk.first_line, verified, dry_run)
            return client.call("registry", "import_associations_csv", *call)

        with _ProgressBars(chunks) as progress:
            report = import_in_chunks(chunks, import_chunk, progress=progress)
    imported, already, bad_rows = len(report["imported"]), len(report["already_imported"]), report["bad_rows"]
    print(f"{imported} imported, {already} already imported before, {len(bad_rows)} bad rows (listed above).")
    return 1 if bad_rows else 0


class _ProgressBars(ImportProgress):
    """A bar over the chunks while checking, the bad rows on standard error, then a bar over the rows."""

    def __init__(self, chunks: list[CsvChunk]) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._total_rows = sum(chunk.rows for chunk in chunks)
        self._bar = tqdm(total=len(chunks), desc="checking", unit="chunk", disable=None)

    def __enter__(self) -> "_ProgressBars":
        return self

    def __exit__(self, *exc_info) -> None:
        self._bar.close()

    def checked(self, chunk: CsvChunk) -> None:
        self._bar.update(1)

    def checked_all(self, bad_rows: list[dict]) -> None:
        self._bar.close()
        for bad in bad_rows:
            reasons = "; ".join(f"{problem['field']}: {problem['problem']}" for problem in bad["problems"])
            print(f"line {bad['line']}: {reasons}", file=sys.stderr)
        self._bar = self._tqdm(total=self._total_rows, desc="importing", unit="row", disable=None)

    def imported(self, chunk: CsvChunk) -> None:
        self._bar.update(chunk.rows)


def export_associations(export_format: str, output: Path | None) -> int:
    from servicekit.rpc_client import RpcClient
    from servicekit.settings import BusSettings

    with RpcClient(BusSettings(), timeout_seconds=IMPORT_TIMEOUT_SECONDS) as client:
        exported = client.call("registry", "export_associations", _token(client), {"format": export_format})
    if export_format == "csv":
        text = exported["csv_text"]
    else:
        text = json.dumps(exported["items"], ensure_ascii=False, indent=2)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


def run(args) -> int:
    from contracts.errors import DiasporaHubError

    try:
        if args.bulk_command == "import":
            return import_associations(args.file, verified=args.verified)
        return export_associations(args.format, args.output)
    except DiasporaHubError as exc:
        print(f"diasporahub: {exc.message}", file=sys.stderr)
        return 1


def add_commands(commands) -> None:
    importing = commands.add_parser("import", help="import associations from a CSV file (Cell staff)")
    importing.add_argument("what", choices=["associations"])
    importing.add_argument("file", type=Path)
    importing.add_argument("--verified", action="store_true", help="register the rows as verified, not pending")
    importing.set_defaults(bulk_command="import")
    exporting = commands.add_parser("export", help="export every association (Cell staff)")
    exporting.add_argument("what", choices=["associations"])
    exporting.add_argument("--format", choices=["csv", "json"], default="csv")
    exporting.add_argument("--output", type=Path, help="a file to write; standard output if not given")
    exporting.set_defaults(bulk_command="export")
