"""`diasporahub run` with `GATEWAY_PROCESSES=2`: two gateway processes answer on the one port (the kernel spreads
new connections over both, SO_REUSEPORT), each hearing the association events on a queue of its own (to forget its
kept public reads); one killed with SIGKILL leaves the other answering every request, and the supervisor starts it
again alone, after which it answers again and hears the events on a new queue."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from contracts.topology import GATEWAY_PUBLIC_READS
from tests.e2e.running import START_TIMEOUT_SECONDS, free_port, system_environment
from tests.e2e.test_supervisor import ready, wait_until

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


def test_two_gateway_processes_answer_on_one_port_and_a_killed_one_is_started_again_alone(rabbit_vhosts, tmp_path):
    listen = f"127.0.0.1:{free_port()}"
    url = f"http://{listen}"
    logs = tmp_path / "var" / "log"
    env = system_environment(rabbit_vhosts, tmp_path, {"GATEWAY_PROCESSES": "2"})
    run = subprocess.Popen(
        [sys.executable, "-m", "diasporahub.cli", "run", "--listen", listen],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready(url), START_TIMEOUT_SECONDS, "the system becoming ready")
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
            lambda: len(found := public_reads_queues(rabbit_vhosts, env["DIASPORAHUB_AMQP_URI"])) == 2 and found,
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
            lambda: len(found := public_reads_queues(rabbit_vhosts, env["DIASPORAHUB_AMQP_URI"])) == 2 and found,
            60,
            "the restarted gateway process consuming association events from a new queue",
        )
        assert len(renewed & queues) == 1, (queues, renewed)
        print(f"gateway-2 pid {gateways['gateway-2.log']} killed, {restarted} started again and answering")
        assert run.poll() is None
    finally:
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert f"gateway (pid {gateways['gateway.log']}), gateway-2 (pid {gateways['gateway-2.log']})" in out
    assert "the gateway-2 process ended (exit code -9)" in err
    assert "started the gateway-2 process again" in err
    assert "the gateway process ended" not in err
