"""The supervisor's restart policy, with processes and a clock of the test's own."""

import io
from pathlib import Path

import pytest

from diasporahub.supervisor import KeepsDying, RestartPolicy, Supervisor


class FakeProcess:
    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class FakeSystem:
    """System's port as the supervisor uses it: processes by name, start one, stop all, where logs go."""

    def __init__(self, *names: str):
        self.log_dir = Path("var/log")
        self.started: list[str] = []
        self.stopped = False
        self.processes = {name: FakeProcess(pid) for pid, name in enumerate(names, start=100)}

    def start(self, name: str) -> None:
        self.started.append(name)
        self.processes[name] = FakeProcess(200 + len(self.started))

    def stop_all(self) -> None:
        self.stopped = True


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


POLICY = RestartPolicy(first_delay_seconds=1, max_delay_seconds=8, quick_death_seconds=60, quick_deaths_allowed=4)


def supervised(*names: str) -> tuple[Supervisor, FakeSystem, Clock, io.StringIO]:
    system, clock, out = FakeSystem(*names), Clock(), io.StringIO()
    supervisor = Supervisor(system, POLICY, clock=clock, out=out)
    supervisor.started()
    return supervisor, system, clock, out


def test_a_dead_process_is_started_again_after_the_first_delay_and_the_others_are_left_alone():
    supervisor, system, clock, out = supervised("registry", "search")
    system.processes["registry"].returncode = -9
    clock.now += 5
    supervisor.check()
    assert system.started == []
    assert "the registry process ended (exit code -9) after 5 s; starting it again in 1 s" in out.getvalue()
    clock.now += 1
    supervisor.check()
    assert system.started == ["registry"]
    assert "started the registry process again (pid 201)" in out.getvalue()


def test_quick_deaths_in_a_row_double_the_delay_up_to_the_maximum():
    supervisor, system, clock, _ = supervised("registry")
    delays = []
    for _ in range(4):
        system.processes["registry"].returncode = 1
        supervisor.check()
        delays.append(supervisor.watched["registry"].restart_at - clock.now)
        clock.now += delays[-1]
        supervisor.check()
    assert delays == [1, 2, 4, 8]


def test_a_process_that_lived_long_starts_again_after_the_first_delay():
    supervisor, system, clock, _ = supervised("registry")
    for lived in (1, 1, 3600):
        clock.now += lived
        system.processes["registry"].returncode = 1
        supervisor.check()
        delay = supervisor.watched["registry"].restart_at - clock.now
        clock.now += delay
        supervisor.check()
    assert delay == 1


def test_a_process_that_keeps_dying_is_given_up_with_a_clear_message():
    supervisor, system, clock, _ = supervised("alerts")
    with pytest.raises(KeepsDying, match=r"the alerts process keeps dying \(5 times in a row.*var/log/alerts.log"):
        for _ in range(5):
            system.processes["alerts"].returncode = 1
            supervisor.check()
            clock.now += 10
            supervisor.check()


def test_run_stops_the_system_when_giving_up_and_says_why():
    system = FakeSystem("alerts")
    out = io.StringIO()
    supervisor = Supervisor(system, RestartPolicy(first_delay_seconds=0, quick_deaths_allowed=0), out=out)
    system.processes["alerts"].returncode = 1
    assert supervisor.run(stopping=lambda: False, poll_seconds=0) == 1
    assert system.stopped
    assert "the alerts process keeps dying" in out.getvalue()
