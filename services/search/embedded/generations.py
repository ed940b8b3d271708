"""Which generation of an index queries read, and which one a rebuild is filling: kept alike for every index.

Each index (`associations`, `individuals`) has a row in `index_generations`. Queries read the live
generation; a rebuild fills the next one beside it while every write goes to both, then switches
to it at once and drops the old one.
"""

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.search.db import Generations

Drop = Callable[[int], None]


class IndexGenerations:
    def __init__(self, session: Session, index: str):
        self.session = session
        self.index = index

    def current(self) -> tuple[int, int | None]:
        """(live, building); `building` is None while no rebuild runs."""
        row = self.session.execute(
            select(Generations.live, Generations.building).where(Generations.index == self.index)
        ).one()
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
        """The generation after the live one, now being rebuilt; an unfinished earlier one is dropped first."""
        live, building = self.current()
        if building is not None:
            drop(building)
        self._set(building=live + 1)
        return live + 1

    def finish_rebuild(self, drop: Drop) -> None:
        """The rebuilt generation becomes the live one; the old live one is dropped."""
        live, building = self.live(), self.building()
        self._set(live=building, building=None)
        drop(live)

    def record_write(self) -> int:
        """Counts a write (see Generations.changes) and returns the new count."""
        return self.session.execute(
            update(Generations)
            .where(Generations.index == self.index)
            .values(changes=Generations.changes + 1)
            .returning(Generations.changes)
        ).scalar_one()

    def record_removal(self) -> None:
        self._set(resets=Generations.resets + 1)

    def _set(self, **values) -> None:
        self.session.execute(update(Generations).where(Generations.index == self.index).values(**values))
