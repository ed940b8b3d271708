"""A RabbitMQ node and a PostgreSQL cluster of a test's own, which it may stop and restart: the machine's shared
ones serve other engineers' tests at the same time and must never be restarted.

Both come from the Debian packages already installed for the shared servers (`rabbitmq-server`, with its
management plugin, and `/usr/lib/postgresql/<version>/bin`), each on free loopback ports, with their files in a
temporary folder deleted afterwards. The node has an Erlang cookie of its own (in its own HOME), so `rabbitmqctl`
run through `PrivateRabbitNode.ctl` reaches it and nothing else.
"""

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import suppress
from pathlib import Path

import requests

from tests.messaging_servers import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT_SECONDS = 120.0


class PrivateRabbitNode:
    """A RabbitMQ node (`chaos-<id>@localhost`) with the management plugin, guest/guest on loopback."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="private-rabbit-"))
        self.node = f"chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.amqp_port, self.management_port, self.dist_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen | None = None

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "HOME": str(self.folder),  # its .erlang.cookie
            "RABBITMQ_CONF_ENV_FILE": str(self.folder / "rabbitmq-env.conf"),  # not the shared node's
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_PID_FILE": str(self.folder / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self) -> None:
        cookie = self.folder / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20))
        cookie.chmod(0o400)
        (self.folder / "rabbitmq-env.conf").write_text("")
        (self.folder / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {self.management_port}\n"
        )
        with open(self.folder / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(RABBITMQ_BIN / "rabbitmq-server")], env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                cwd=self.folder, start_new_session=True,
            )  # fmt: skip
        self.wait_until_serving()

    def wait_until_serving(self) -> None:
        """The node has booted and its management API answers (the tests make vhosts and users through it)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the private RabbitMQ node stopped while starting; see {self.folder}/server.log")
            if self._management_answers():
                return
            time.sleep(0.5)
        raise RuntimeError(f"the private RabbitMQ node did not start in {START_TIMEOUT_SECONDS:g} s; see {self.folder}")

    def _management_answers(self) -> bool:
        try:
            return requests.get(f"{self.management_url}/api/overview", timeout=3).ok
        except requests.RequestException:
            return False

    def ctl(self, *arguments: str) -> str:
        """`rabbitmqctl -n <this node> …`; its output."""
        command = [str(RABBITMQ_BIN / "rabbitmqctl"), "-q", "-n", self.node, *arguments]
        return subprocess.run(command, env=self._env(), capture_output=True, text=True, check=True).stdout

    def stop_app(self) -> None:
        """The broker application stops (every connection is closed, non-durable queues go); the node stays."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_until_serving()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.ctl("stop")
                self.process.wait(30)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster (trust authentication, superuser `postgres`) on a free loopback port, its socket in its
    own folder; run as the `postgres` user when the tests run as root, since PostgreSQL refuses root."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        self.port = free_port()
        self.bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))[-1])
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            account = pwd.getpwnam(self.user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user is not None else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        data = self.folder / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        self._start()

    def _start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l", log, "-o", options, "-w", "start")

    def stop_server(self) -> None:
        """Fast shutdown: every client connection is closed, transactions in flight roll back."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        self._start()

    def stop(self) -> None:
        with suppress(subprocess.CalledProcessError):  # not running
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
