"""Which generation of an index queries read, and which one a rebuild is filling: kept alike for every index.

Each index (`associations`, `individuals`) has a row in `index_generations`. Queries read the live
generation; a rebuild fills the next one beside it while every write goes to both, then switches
to it at once and drops the old one. A rebuild holds its index while it keeps writing: another
one may begin only once it has finished, or has written nothing for REBUILD_LEASE.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from services.search.db import Generations
from services.search.domain import REBUILD_LEASE, Clock, RebuildRunning

Drop = Callable[[int], None]


class IndexGenerations:
    def __init__(self, session: Session, index: str, *, clock: Clock):
        self.session = session
        self.index = index
        self.clock = clock

    def current(self) -> tuple[int, int | None]:
        """(live, building); `building` is None while no rebuild runs."""
        row = self._row()
        return row.live, row.building

    def live(self) -> int:
        return self.current()[0]

    def building(self) -> int:
        _, building = self.current()
        if building is None:
            raise RuntimeError(f"no rebuild of {self.index} has begun")
        return building

    def write_to_each(self, write: Callable[[int], bool]) -> bool:
        """`write` into the live generation and, while a rebuild runs, the one being rebuilt; the live one's answer."""
        live, building = self.current()
        written = write(live)
        if building is not None:
            write(building)
        return written

    def begin_rebuild(self, drop: Drop) -> int:
        """The generation after the live one, now being rebuilt; an abandoned earlier one is dropped first.

        Raises RebuildRunning if another rebuild holds the index. The claim is one conditional UPDATE, so
        that of two processes beginning at once, one only succeeds.
        """
        row, now = self._row(), self.clock()
        if row.building is not None and row.rebuild_active_at is not None:
            active_at = row.rebuild_active_at.replace(tzinfo=UTC)
            if now - active_at < REBUILD_LEASE:
                raise RebuildRunning.of(self.index, active_at)
        claimed = self.session.execute(
            update(Generations)
            .where(
                Generations.index == self.index,
                Generations.building.is_not_distinct_from(row.building),
                Generations.rebuild_active_at.is_not_distinct_from(row.rebuild_active_at),
            )
            .values(building=row.live + 1, rebuild_active_at=_stored(now))
        )
        if not claimed.rowcount:
            raise RebuildRunning.of(self.index, now)
        if row.building is not None:
            drop(row.building)
        return row.live + 1

    def hold_rebuild(self) -> int:
        """The generation being rebuilt, held for another REBUILD_LEASE."""
        building = self.building()
        self._set(rebuild_active_at=_stored(self.clock()))
        return building

    def finish_rebuild(self, drop: Drop) -> None:
        """The rebuilt generation becomes the live one; the old live one is dropped."""
        live, building = self.live(), self.building()
        self._set(live=building, building=None, rebuild_active_at=None)
        drop(live)

    def record_write(self) -> int:
        """Counts a write (see Generations.changes) and returns the new count."""
        return self.session.connection().execute(_RECORD_WRITE, {"the_index": self.index}).scalar_one()

    def record_removal(self) -> None:
        self._set(resets=Generations.resets + 1)

    def _row(self):
        return self.session.connection().execute(_CURRENT, {"the_index": self.index}).one()

    def _set(self, **values) -> None:
        self.session.execute(update(Generations).where(Generations.index == self.index).values(**values))


# Every indexed event runs these two: built once, and run on the session's connection rather than through the ORM,
# whose building and handling of each cost more than SQLite's work.
_GENERATIONS = Generations.__table__
_OF_INDEX = _GENERATIONS.c.index == bindparam("the_index")
_CURRENT = select(_GENERATIONS.c.live, _GENERATIONS.c.building, _GENERATIONS.c.rebuild_active_at).where(_OF_INDEX)
_RECORD_WRITE = (
    update(_GENERATIONS).where(_OF_INDEX).values(changes=_GENERATIONS.c.changes + 1).returning(_GENERATIONS.c.changes)
)


def _stored(moment: datetime) -> datetime:
    """SQLite keeps no time zone: times are stored in UTC, without one."""
    return moment.astimezone(UTC).replace(tzinfo=None)
