"""A city's location from its name and country, read from the places index file on disk."""

import sqlite3
from pathlib import Path

from contracts.associations import Location
from contracts.text import fold
from servicekit.places import index

LOOK_UP = "SELECT lat, lon FROM names JOIN cities ON cities.id = names.city WHERE names.name = ? AND names.country = ?"


class Gazetteer:
    """Cities of 5,000 people or more, looked up by folded name (or ASCII alternate name) and country.

    Opening finds the index file and checks it (building it first, in a child process, if there is none: a few
    seconds, once per installation); a look-up reads a few pages of it, and nothing else is held in memory.
    Safe from any thread or greenthread: a look-up takes an idle connection (or opens one) and gives it back,
    so no connection is used by two at once; under eventlet a look-up never yields, so one connection serves all.
    """

    def __init__(self, path: Path | None = None):
        if path is None:
            path = index.find_or_build()
        elif not path.is_file():
            index.build_in_child(path)
        self.path = path
        self._idle: list[sqlite3.Connection] = [self._connect()]

    def locate(self, city: str, country: str) -> Location | None:
        """The most populous city of that name in that country, or None."""
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = self._connect()
        try:
            found = connection.execute(LOOK_UP, (fold(city.strip()), country)).fetchone()
        finally:
            self._idle.append(connection)
        return None if found is None else Location(lat=found[0], lon=found[1])

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _connect(self) -> sqlite3.Connection:
        # immutable: a file in place never changes (a rebuild renames a new file over it), so SQLite reads it
        # without locks or journal, also on a read-only file system; check_same_thread: see the class.
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            connection.execute("PRAGMA cache_size = -256")  # KiB of pages per connection; the OS caches the file
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise index.IndexUnavailable(f"{self.path} is not a gazetteer index: {exc}") from exc
        if version != index.FORMAT:
            connection.close()
            raise index.IndexUnavailable(f"{self.path} is a gazetteer index of format {version}, not {index.FORMAT}")
        return connection
