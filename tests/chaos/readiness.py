"""Waiting for the system's readiness, and saying why when it does not come: the last /readyz answer (which check
is false), each process's state and the tail of its log."""

import time

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


def processes_and_logs(system: System) -> str:
    parts = []
    for name, process in system.processes.items():
        state = "running" if process.poll() is None else f"ended with {process.returncode}"
        log = system.log_dir / f"{name}.log"
        tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] if log.exists() else []
        parts.append(f"--- {name} (pid {process.pid}, {state}), {log}:\n" + "\n".join(tail))
    return "\n".join(parts)
