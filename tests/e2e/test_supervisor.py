"""`diasporahub run` keeps the system up. With `GATEWAY_PROCESSES=2`, two gateway processes answer on the one port
(the kernel spreads new connections over both, SO_REUSEPORT), each hearing the association events on a queue of its
own (to forget its kept public reads); one killed with SIGKILL leaves the other answering every request, and the
supervisor starts it again alone, after which it answers again and hears the events on a new queue. A service
process killed with SIGKILL is started again, and the system is ready again; SIGTERM stops everything.

The tests share one `diasporahub run` (starting the whole system is most of each test's time) and run in the order
written: the last one stops it."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from contracts.topology import GATEWAY_PUBLIC_READS
from tests.e2e.running import START_TIMEOUT_SECONDS, free_port, system_environment

GATEWAY = "gateway.service:GatewayService"
FRESH_CONNECTIONS = 40  # the chance that all of them reach one of two processes is 2 × 2⁻⁴⁰


def gateway_processes(supervisor_pid: int) -> dict[str, int]:
    """The gateway processes `diasporahub run` started, by the log file their output goes to (`gateway-2.log`)."""
    found = {}
    for child in Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split():
        try:
            arguments = Path(f"/proc/{child}/cmdline").read_text().split("\0")
            log = Path(os.readlink(f"/proc/{child}/fd/1")).name
        except FileNotFoundError:
            continue
        if GATEWAY in arguments:
            found[log] = int(child)
    return found


def other_processes(supervisor_pid: int) -> set[int]:
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()
    return {int(child) for child in children} - set(gateway_processes(supervisor_pid).values())


def answered(log: Path) -> int:
    """How many /healthz requests the process writing `log` has answered."""
    if not log.exists():
        return 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return sum(
        1
        for line in lines
        if line.get("logger") == "servicekit.access" and line["message"].startswith("GET /healthz 200 ")
    )


def public_reads_queues(rabbit_vhosts, amqp_uri: str) -> set[str]:
    """The gateway's queues of association events in the system's vhost that a process consumes from."""
    vhost = amqp_uri.rpartition("/")[2]
    queues = requests.get(f"{rabbit_vhosts.management_url}/api/queues/{vhost}", timeout=10).json()
    return {
        queue["name"]
        for queue in queues
        if queue["name"].startswith(f"{GATEWAY_PUBLIC_READS.queue}-") and queue.get("consumers", 0) > 0
    }


def on_fresh_connections(url: str, count: int) -> list[int]:
    """`count` requests, each on a connection of its own: each is a new choice of process for the kernel."""
    return [requests.get(f"{url}/healthz", timeout=10).status_code for _ in range(count)]


def dead(pid: int) -> bool:
    """Ended (its sockets closed), whether or not the supervisor has reaped it yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in {"Z", "X"}
    except FileNotFoundError:
        return True


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


@dataclass
class Supervised:
    """`diasporahub run` as a child process, what it has printed so far read as it comes."""

    run: subprocess.Popen
    url: str
    logs: Path
    env: dict[str, str]
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def said(self, line: str) -> bool:
        return any(line in said for said in self.err)


def read_lines(stream, into: list[str]) -> threading.Thread:
    reader = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    reader.start()
    return reader


@pytest.fixture(scope="module")
def supervised(rabbit_vhosts, tmp_path_factory):
    home = tmp_path_factory.mktemp("supervised")
    listen = f"127.0.0.1:{free_port()}"
    env = system_environment(rabbit_vhosts, home, {"GATEWAY_PROCESSES": "2"})
    run = subprocess.Popen(
        [sys.executable, "-m", "diasporahub.cli", "run", "--listen", listen],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    supervised = Supervised(run=run, url=f"http://{listen}", logs=home / "var" / "log", env=env)
    readers = [read_lines(run.stdout, supervised.out), read_lines(run.stderr, supervised.err)]
    try:
        wait_until(lambda: ready(supervised.url), START_TIMEOUT_SECONDS, "the system becoming ready")
        yield supervised
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=120)
        for reader in readers:
            reader.join(timeout=10)


def test_two_gateway_processes_answer_on_one_port_and_a_killed_one_is_started_again_alone(rabbit_vhosts, supervised):
    run, url, logs = supervised.run, supervised.url, supervised.logs
    gateways = gateway_processes(run.pid)
    assert set(gateways) == {"gateway.log", "gateway-2.log"}, gateways
    # Both must be listening before the kernel can choose either: the second may still be starting.
    wait_until(
        lambda: on_fresh_connections(url, FRESH_CONNECTIONS) and answered(logs / "gateway-2.log") > 0,
        START_TIMEOUT_SECONDS,
        "the second gateway process answering",
    )
    before = {name: answered(logs / name) for name in gateways}
    assert set(on_fresh_connections(url, FRESH_CONNECTIONS)) == {200}
    assert all(answered(logs / name) > before[name] for name in gateways), before
    others = other_processes(run.pid)
    queues = wait_until(
        lambda: len(found := public_reads_queues(rabbit_vhosts, supervised.env["DIASPORAHUB_AMQP_URI"])) == 2 and found,
        60,
        "each gateway process consuming association events from a queue of its own",
    )

    os.kill(gateways["gateway-2.log"], signal.SIGKILL)
    wait_until(lambda: dead(gateways["gateway-2.log"]), 10, "the second gateway process ending")
    alone = answered(logs / "gateway.log")
    assert set(on_fresh_connections(url, FRESH_CONNECTIONS)) == {200}
    assert answered(logs / "gateway.log") >= alone + FRESH_CONNECTIONS

    restarted = wait_until(
        lambda: (
            gateway_processes(run.pid).get("gateway-2.log") not in (None, gateways["gateway-2.log"])
            and gateway_processes(run.pid)["gateway-2.log"]
        ),
        30,
        "the second gateway process starting again",
    )
    assert gateway_processes(run.pid)["gateway.log"] == gateways["gateway.log"]
    assert other_processes(run.pid) == others
    again = answered(logs / "gateway-2.log")
    wait_until(
        lambda: on_fresh_connections(url, FRESH_CONNECTIONS) and answered(logs / "gateway-2.log") > again,
        START_TIMEOUT_SECONDS,
        "the restarted gateway process answering",
    )
    assert ready(url)
    renewed = wait_until(
        lambda: len(found := public_reads_queues(rabbit_vhosts, supervised.env["DIASPORAHUB_AMQP_URI"])) == 2 and found,
        60,
        "the restarted gateway process consuming association events from a new queue",
    )
    assert len(renewed & queues) == 1, (queues, renewed)
    print(f"gateway-2 pid {gateways['gateway-2.log']} killed, {restarted} started again and answering")
    assert run.poll() is None
    assert f"gateway (pid {gateways['gateway.log']}), gateway-2 (pid {gateways['gateway-2.log']})" in "".join(
        supervised.out
    )
    assert supervised.said("the gateway-2 process ended (exit code -9)")
    assert supervised.said("started the gateway-2 process again")
    assert not supervised.said("the gateway process ended")


def test_a_killed_service_is_started_again_and_the_system_is_ready_again(supervised):
    run, url = supervised.run, supervised.url
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
    assert supervised.said("the registry process ended (exit code -9)")
    assert supervised.said("started the registry process again")


def test_sigterm_stops_everything(supervised):
    """Last: the other tests' run ends here."""
    run = supervised.run
    run.send_signal(signal.SIGTERM)

    assert run.wait(timeout=120) == 0, "".join(supervised.err)
    wait_until(lambda: "DiasporaHub stopped." in "".join(supervised.out), 10, "the supervisor saying it stopped")
    assert not supervised.said("the gateway process ended")
