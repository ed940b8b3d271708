"""`diasporahub run` keeps the system up: a service process killed with SIGKILL is started again, and the system
is ready again; SIGTERM stops everything."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.running import START_TIMEOUT_SECONDS, free_port, system_environment


def child_pids(pid: int) -> dict[str, int]:
    """The processes `pid` started, by the service (`module:Class` or relay name) they run."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = {}
    for child in children:
        try:
            arguments = Path(f"/proc/{child}/cmdline").read_text().split("\0")
        except FileNotFoundError:
            continue
        found[" ".join(arguments[2:4]).strip()] = int(child)
    return found


def wait_until(condition, timeout_seconds: float, what: str):
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {timeout_seconds:g} s")


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=3).status_code == 200
    except requests.ConnectionError:
        return False


def test_a_killed_service_is_started_again_and_the_system_is_ready_again(rabbit_vhosts, tmp_path):
    listen = f"127.0.0.1:{free_port()}"
    url = f"http://{listen}"
    run = subprocess.Popen(
        [sys.executable, "-m", "diasporahub.cli", "run", "--listen", listen],
        env=system_environment(rabbit_vhosts, tmp_path, {}),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready(url), START_TIMEOUT_SECONDS, "the system becoming ready")
        registry = "servicekit.runner services.registry.service:RegistryService"
        killed = child_pids(run.pid)[registry]
        os.kill(killed, signal.SIGKILL)
        restarted = wait_until(
            lambda: child_pids(run.pid).get(registry) not in (None, killed) and child_pids(run.pid)[registry],
            30,
            "the registry starting again",
        )
        wait_until(lambda: ready(url), START_TIMEOUT_SECONDS, "the system becoming ready again")
        print(f"registry pid {killed} killed, {restarted} started again; /readyz ready")
        assert run.poll() is None
    finally:
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "DiasporaHub stopped." in out
    assert "the registry process ended (exit code -9)" in err
    assert "started the registry process again" in err
