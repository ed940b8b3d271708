"""Waiting for the system's readiness, and saying why when it does not come: the last /readyz answer (which check
is false), each process's state and the tail of its log.

Ready is not enough with several gateway processes on one port: one answers /readyz while another, killed and
started again, may still be starting. Each must hold its listening socket again before the next fault (killing the
other then would leave none), which /proc shows."""

import os
import time
from pathlib import Path

import pytest
import requests

from diasporahub.system import System

READY_SECONDS = 120.0
LOG_TAIL_LINES = 12


def readiness(url: str) -> tuple[bool, str]:
    """Whether the gateway's /readyz says ready, and what it said."""
    try:
        answer = requests.get(f"{url}/readyz", timeout=5)
    except requests.RequestException as exc:
        return False, f"no answer ({exc})"
    return answer.status_code == 200, f"{answer.status_code} {answer.text}"


def wait_until_ready(system: System, after: str, timeout_seconds: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not (said := readiness(system.url))[0]:
        if time.monotonic() > deadline:
            pytest.fail(f"the system was not ready {timeout_seconds:g} s {after}; /readyz said {said[1]}\n"
                        + processes_and_logs(system))  # fmt: skip
        time.sleep(0.5)


def wait_until_every_gateway_listens(system: System, after: str, timeout_seconds: float = READY_SECONDS) -> None:
    gateways = [name for name, arguments in system.plan.items() if "--listen" in arguments]
    deadline = time.monotonic() + timeout_seconds
    while not all(listens(system.processes[name].pid, system.listen) for name in gateways):
        if time.monotonic() > deadline:
            pytest.fail(
                f"not every gateway process listened {timeout_seconds:g} s {after}\n" + processes_and_logs(system)
            )
        time.sleep(0.5)


def listens(pid: int, listen: str) -> bool:
    """The process holds a TCP socket listening on `listen` (host:port, IPv4)."""
    host, _, port = listen.rpartition(":")
    address = "".join(f"{int(part):02X}" for part in reversed(host.split("."))) + f":{int(port):04X}"
    try:
        held = {link for entry in Path(f"/proc/{pid}/fd").iterdir() if (link := link_of(entry))}
        table = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:  # ended meanwhile, or not ours
        return False
    listening = {
        f"socket:[{fields[9]}]" for fields in map(str.split, table) if fields[1] == address and fields[3] == "0A"
    }
    return bool(listening & held)


def link_of(descriptor: Path) -> str | None:
    """What an open file descriptor is (`socket:[inode]`); None for one closed meanwhile."""
    try:
        return os.readlink(descriptor)
    except FileNotFoundError:
        return None


def processes_and_logs(system: System) -> str:
    parts = []
    for name, process in system.processes.items():
        state = "running" if process.poll() is None else f"ended with {process.returncode}"
        log = system.log_dir / f"{name}.log"
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] if log.exists() else []
        parts.append(f"--- {name} (pid {process.pid}, {state}), {log}:\n" + "\n".join(tail))
    return "\n".join(parts)
