"""CPU time of processes, from /proc/<pid>/stat, for the benchmarks' per-request CPU figures: on a machine shared with
other work, a process's own CPU milliseconds per request say more than the rate does."""

import os
import subprocess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def broker_pid() -> int | None:
    """RabbitMQ's Erlang VM, if it runs on this machine (shared by everything that uses the broker)."""
    found = subprocess.run(["pgrep", "-o", "beam.smp"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


class CpuMeter:
    """`meter = CpuMeter({"gateway": pid, ...})` … `meter.ms_per(requests)` → CPU ms per request of each process
    since the meter was made."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.started = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def ms_per(self, requests: int) -> dict[str, float]:
        return {name: (cpu_seconds(pid) - self.started[name]) * 1000 / requests for name, pid in self.pids.items()}


def system_pids(processes) -> dict[str, int]:
    """The pids of `System.processes`, with RabbitMQ's as `rabbitmq (shared)`."""
    pids = {name: process.pid for name, process in processes.items()}
    broker = broker_pid()
    if broker is not None:
        pids["rabbitmq (shared)"] = broker
    return pids


def describe(per_request: dict[str, float]) -> str:
    return ", ".join(f"{name} {ms:.2f}" for name, ms in per_request.items())


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: a figure taken on a busy machine says so."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
