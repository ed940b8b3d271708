"""`diasporahub run`'s supervisor: keeps every process of the system up on one machine, as systemd would.

A process that ends is started again after a delay that doubles with each quick death (one that lived less than
`quick_death_seconds`), up to `max_delay_seconds`; a process that lived long starts again after the first delay.
After `quick_deaths_allowed` quick deaths in a row the supervisor gives up: it stops the system and says which
process keeps dying and where its log is. Every death and restart is logged to standard error.
"""

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from diasporahub.system import System


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    quick_death_seconds: float = 60.0
    quick_deaths_allowed: int = 5

    def delay_after(self, quick_deaths: int) -> float:
        """How long to wait before starting a process again that died quickly `quick_deaths` times in a row."""
        return min(self.first_delay_seconds * 2 ** max(quick_deaths - 1, 0), self.max_delay_seconds)


class KeepsDying(Exception):
    """A process died quickly more often in a row than the policy allows."""


@dataclass
class _Watched:
    started_at: float
    quick_deaths: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    system: System
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    clock: Callable[[], float] = time.monotonic
    out: TextIO = sys.stderr
    watched: dict[str, _Watched] = field(default_factory=dict)

    def started(self) -> None:
        """The system's processes have just been started: watch them from now."""
        now = self.clock()
        self.watched = {name: _Watched(started_at=now) for name in self.system.processes}

    def check(self) -> None:
        """Notice processes that ended and start again those whose delay is over; raise KeepsDying to give up."""
        now = self.clock()
        for name, watched in self.watched.items():
            if watched.restart_at is None and self.system.processes[name].poll() is not None:
                self._died(name, watched, now)
            elif watched.restart_at is not None and now >= watched.restart_at:
                self.system.start(name)
                watched.started_at, watched.restart_at = now, None
                self._say(f"started the {name} process again (pid {self.system.processes[name].pid})")

    def _died(self, name: str, watched: _Watched, now: float) -> None:
        lived = now - watched.started_at
        code = self.system.processes[name].returncode
        watched.quick_deaths = watched.quick_deaths + 1 if lived < self.policy.quick_death_seconds else 0
        log = self.system.log_dir / f"{name}.log"
        if watched.quick_deaths > self.policy.quick_deaths_allowed:
            raise KeepsDying(
                f"the {name} process keeps dying ({watched.quick_deaths} times in a row within "
                f"{self.policy.quick_death_seconds:g} s of starting); see {log}. Stopped everything."
            )
        delay = self.policy.delay_after(watched.quick_deaths)
        watched.restart_at = now + delay
        self._say(f"the {name} process ended (exit code {code}) after {lived:.0f} s; starting it again in {delay:g} s")

    def _say(self, line: str) -> None:
        print(f"diasporahub: {line}", file=self.out, flush=True)

    def run(self, stopping: Callable[[], bool], poll_seconds: float = 0.5) -> int:
        """Watch until `stopping()` says so (0) or a process keeps dying (1); the system is stopped either way."""
        self.started()
        try:
            while not stopping():
                self.check()
                time.sleep(poll_seconds)
        except KeepsDying as exc:
            self._say(str(exc))
            return 1
        finally:
            self.system.stop_all()
        return 0
