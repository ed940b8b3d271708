"""diasporahub/backup.py on its own: a SQLite database copied while it is written is whole, and a restore from a folder
that is no backup, or onto another kind of database, is refused with a message that says why."""

import sqlite3
import subprocess
import sys
import time

import pytest

from diasporahub.backup import BackupFailed, backup, restore
from services.catalogue import with_databases


@pytest.fixture
def sqlite_everywhere(tmp_path, monkeypatch):
    """Every service's database is a SQLite file in tmp_path/live (in WAL mode, as the services open theirs), each with
    one table of numbered rows."""
    live = tmp_path / "live"
    live.mkdir()
    for entry in with_databases():
        path = live / f"{entry.name}.sqlite3"
        prefix = entry.load_settings().model_config["env_prefix"]
        monkeypatch.setenv(f"{prefix}DATABASE_URL", f"sqlite:///{path}")
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # as servicekit.database sets it
            connection.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY, square INTEGER NOT NULL)")
    return live


WRITER = """
import sqlite3, sys
from pathlib import Path
path, n, stop = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
with sqlite3.connect(path, timeout=10) as connection:
    while not stop.exists():
        connection.execute("INSERT INTO numbers VALUES (?, ?)", (n, n * n))
        connection.commit()
        n += 1
"""


def writing(path, start: int, stop_file):
    """Another process inserting numbered rows, one transaction each, until `stop_file` exists."""
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start), str(stop_file)])


def rows(path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT n, square FROM numbers ORDER BY n").fetchall()


def test_a_sqlite_database_backed_up_while_written_restores_whole(sqlite_everywhere, tmp_path):
    registry = sqlite_everywhere / "registry.sqlite3"
    with sqlite3.connect(registry) as connection:
        connection.executemany("INSERT INTO numbers VALUES (?, ?)", [(n, n * n) for n in range(100)])
    before = rows(registry)
    writer = writing(registry, 100, tmp_path / "stop")
    for _ in range(3000):  # until the writer is under way (at most 30 s)
        if len(rows(registry)) > len(before):
            break
        time.sleep(0.01)

    manifest = backup(tmp_path / "backup")
    (tmp_path / "stop").touch()
    writer.wait(timeout=30)
    registry.unlink()
    restored = restore(tmp_path / "backup")

    copied = rows(registry)
    assert set(manifest["databases"]) == set(restored) == {entry.name for entry in with_databases()}
    assert copied[: len(before)] == before and len(copied) > len(before)
    assert all(square == n * n for n, square in copied) and [n for n, _ in copied] == list(range(len(copied)))


def test_a_folder_without_a_manifest_is_no_backup(sqlite_everywhere, tmp_path):
    (tmp_path / "empty").mkdir()

    with pytest.raises(BackupFailed, match="holds no backup: manifest.json is missing"):
        restore(tmp_path / "empty")


def test_a_backup_of_sqlite_is_not_restored_onto_postgresql(sqlite_everywhere, tmp_path, monkeypatch):
    backup(tmp_path / "backup")
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql+psycopg2://registry@127.0.0.1:5432/registry")

    with pytest.raises(
        BackupFailed, match="the registry backup is of sqlite, but registry's database is now postgresql"
    ):
        restore(tmp_path / "backup")


def test_the_registry_is_taken_last_so_that_no_copy_of_it_is_ahead_of_it(sqlite_everywhere, tmp_path):
    manifest = backup(tmp_path / "backup")

    assert sorted(manifest["databases"]) == sorted(entry.name for entry in with_databases())
    assert list(manifest["databases"])[-1] == "registry"
