"""`diasporahub backup DIR`, `diasporahub restore DIR` and `diasporahub verify [--repair]`.

A backup holds every database of services/catalogue.py: a PostgreSQL database as `pg_dump`'s custom format (one
snapshot, so consistent while the services keep writing), a SQLite file through SQLite's online backup API (also
consistent while it is written). Each database is consistent in itself; the services' databases are taken one after
another, the registry last, so a projection (search's index, messaging's copy of the directory) may be a little
behind the registry it was copied from, never ahead: after a restore, `verify --repair` compares them with the
registry and brings them forward.
`manifest.json` in DIR says what was taken, when, and from which kind of database.

Restore with the services stopped: it replaces each database's contents with the backup's.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from services.catalogue import ServiceEntry, with_databases

MANIFEST = "manifest.json"


class BackupFailed(Exception):
    """A database could not be copied or restored; the message says which and why."""


def backup(folder: Path) -> dict:
    """Copy every service's database into `folder`; return the manifest written there."""
    folder.mkdir(parents=True, exist_ok=True)
    taken: dict[str, dict] = {}
    for entry in _registry_last():
        url = make_url(entry.database_url())
        if url.get_backend_name() == "sqlite":
            file_name = f"{entry.name}.sqlite3"
            _copy_sqlite(Path(url.database), folder / file_name)
        else:
            file_name = f"{entry.name}.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={folder / file_name}"], url)
        taken[entry.name] = {"backend": url.get_backend_name(), "file": file_name}
    manifest = {"taken_at": datetime.now(UTC).isoformat(), "databases": taken}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _registry_last() -> list[ServiceEntry]:
    """Search, messaging and alerts copy the registry: taken before it, their copies hold nothing it lacks (an
    association registered after the registry's dump would otherwise be in them alone, after a restore)."""
    return sorted(with_databases(), key=lambda entry: entry.name == "registry")


def restore(folder: Path) -> list[str]:
    """Put each database of the backup in `folder` back where the settings say it lives; return their services."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupFailed(f"{folder} holds no backup: {MANIFEST} is missing")
    taken = json.loads(manifest_path.read_text())["databases"]
    restored = []
    for entry in with_databases():
        if entry.name not in taken:
            raise BackupFailed(f"the backup in {folder} has no database of the {entry.name} service")
        _restore_one(entry, folder / taken[entry.name]["file"], taken[entry.name]["backend"])
        restored.append(entry.name)
    return restored


def verify(*, repair: bool) -> int:
    """Search's index and messaging's directory against the registry (`search verify`, `messaging
    verify-directory`), each difference printed; with `repair`, search repairs its own, messaging's directory is
    rebuilt (`messaging rebuild-directory`) then checked again, and alerts' people are rebuilt too (`alerts
    rebuild-people`; they are not compared). 0 when they agree, or agree after the repair."""
    command = [sys.executable, "-m", "diasporahub.cli"]
    search = subprocess.run([*command, "search", "verify", *(["--repair"] if repair else [])], check=False)
    if repair:
        for rebuild in (["messaging", "rebuild-directory"], ["alerts", "rebuild-people"]):
            rebuilt = subprocess.run([*command, *rebuild], check=False)
            if rebuilt.returncode != 0:
                return rebuilt.returncode
    # A rebuild brings versions forward only: what is still ahead of the registry, or differs at the same version,
    # is printed by this second check (after a restore it cannot be: the registry is backed up last).
    messaging = subprocess.run([*command, "messaging", "verify-directory"], check=False)
    return search.returncode or messaging.returncode


def _restore_one(entry: ServiceEntry, source: Path, backend: str) -> None:
    url = make_url(entry.database_url())
    if url.get_backend_name() != backend:
        raise BackupFailed(
            f"the {entry.name} backup is of {backend}, but {entry.name}'s database is now {url.get_backend_name()}"
        )
    if backend == "sqlite":
        target = Path(url.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(source, target)
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", str(source)], url)  # fmt: skip


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy, page by page, while others may be writing to `source`."""
    if not source.is_file():
        raise BackupFailed(f"{source} does not exist")
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _run(arguments: list[str], url: URL) -> None:
    """A PostgreSQL client tool against `url`'s database; the password goes in the environment, not the arguments."""
    tool = arguments[0]
    if shutil.which(tool) is None:
        raise BackupFailed(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    environment = os.environ | {
        "PGHOST": url.host or "localhost",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
        "PGDATABASE": url.database or "",
        **({"PGPASSWORD": url.password} if url.password else {}),
    }
    database = [] if tool == "pg_dump" else [f"--dbname={url.database}"]
    result = subprocess.run([*arguments, *database], env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupFailed(f"{tool} failed on the {url.database} database: {result.stderr.strip()}")


def main(command: str, folder: str | None, *, repair: bool = False) -> int:
    try:
        if command == "backup":
            manifest = backup(Path(folder))
            print(f"backed up {', '.join(manifest['databases'])} to {folder}")
        elif command == "restore":
            print(f"restored {', '.join(restore(Path(folder)))} from {folder}; now start the services and run "
                  "`diasporahub verify --repair`")  # fmt: skip
        else:
            return verify(repair=repair)
    except BackupFailed as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        return 1
    return 0
