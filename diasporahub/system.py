"""Starts and stops every service of DiasporaHub (services/catalogue.py) as its own process, as in production.

The supervisor only starts processes and waits on them: it imports no service, no bus and no database library.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from services.catalogue import process_environment, processes, relay_environment, sender_environment


class StartFailed(Exception):
    """A service process ended during start-up, or the system did not become ready."""


class System:
    def __init__(
        self,
        *,
        listen: str = "127.0.0.1:8000",
        env: Mapping[str, str] | None = None,
        log_dir: Path,
        gateway_processes: int = 1,
    ):
        self.listen = listen
        # Each outbox is relayed, and messaging's deliveries sent, by a process of its own, which the services are told.
        self.env = dict(os.environ if env is None else env) | relay_environment() | sender_environment()
        self.log_dir = log_dir
        # `gateway_processes` gateways share the one address (`gateway`, `gateway-2`…), each started again alone.
        self.plan = processes(listen, gateway_processes)
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        host, _, port = self.listen.rpartition(":")
        return f"http://{host or '127.0.0.1'}:{port}"

    def prepare(self) -> None:
        """Check the broker, declare the bus topology, migrate every database (in a child process)."""
        result = subprocess.run([sys.executable, "-m", "diasporahub.cli", "prepare"], env=self.env)
        if result.returncode != 0:
            raise StartFailed("preparing the system failed; see the message above")

    def start(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", *self.plan[name]],
                env=process_environment(name, self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, name: str, timeout_seconds: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_all(self, ready_timeout_seconds: float = 60.0) -> None:
        for name in self.plan:
            self.start(name)
        self.wait_until_ready(ready_timeout_seconds)

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)

    def wait_until_ready(self, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise StartFailed(f"the {name} service stopped while starting; see {self.log_dir / name}.log")
            if self._ready():
                return
            time.sleep(0.2)
        raise StartFailed(f"the system was not ready after {timeout_seconds:g} s; see the logs in {self.log_dir}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=3) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
