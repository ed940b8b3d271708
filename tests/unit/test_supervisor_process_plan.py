"""`diasporahub run`'s plan of processes with several gateway processes on one address (`GATEWAY_PROCESSES`): their
names, what each runs, the setting and its default, each process's environment, and the supervisor starting a dead
gateway process again alone."""

import io
import os

import pytest

from diasporahub import cli
from diasporahub.supervisor import RestartPolicy, Supervisor
from diasporahub.system import System
from services.catalogue import gateway_processes, process_environment, processes, service

LISTEN = "127.0.0.1:9000"
GATEWAY_RUNNER = ["servicekit.runner", "gateway.service:GatewayService", "--listen", LISTEN]


def test_the_gateway_processes_share_the_address_and_are_named_gateway_then_gateway_2():
    plan = processes(LISTEN, gateway_processes=3)

    assert [name for name in plan if name.startswith("gateway")] == ["gateway", "gateway-2", "gateway-3"]
    assert plan["gateway"] == plan["gateway-2"] == plan["gateway-3"] == GATEWAY_RUNNER
    others = [name for name in plan if not name.startswith("gateway")]
    assert others == [name for name in processes(LISTEN) if name != "gateway"]


def test_without_a_count_there_is_one_gateway_process_named_gateway():
    assert [name for name in processes(LISTEN) if name.startswith("gateway")] == ["gateway"]
    assert service("gateway").process_names() == ["gateway"]
    assert service("registry").process_names(1) == ["registry"]


def test_the_setting_defaults_to_a_process_per_usable_core_at_most_four():
    assert gateway_processes({}) == min(len(os.sched_getaffinity(0)), 4)
    assert gateway_processes({"GATEWAY_PROCESSES": ""}) == gateway_processes({})
    assert gateway_processes({"GATEWAY_PROCESSES": "1"}) == 1
    assert gateway_processes({"GATEWAY_PROCESSES": " 6 "}) == 6


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "65"])
def test_a_setting_that_is_not_a_count_from_1_to_64_is_refused_with_a_sentence(value):
    with pytest.raises(ValueError) as refused:
        gateway_processes({"GATEWAY_PROCESSES": value})

    assert str(refused.value) == (
        f"GATEWAY_PROCESSES must be a whole number of gateway processes from 1 to 64, not {value!r}"
    )


def test_diasporahub_run_with_a_bad_setting_says_so_and_starts_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_PROCESSES", "many")

    assert cli.main(["run", "--listen", LISTEN]) == 2
    assert "GATEWAY_PROCESSES must be a whole number" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()


def test_a_second_gateway_process_serves_its_metrics_on_a_port_of_its_own_or_none():
    env = {"GATEWAY_METRICS_LISTEN": "127.0.0.1:9100", "GATEWAY_2_METRICS_LISTEN": "127.0.0.1:9102", "OTHER": "x"}

    assert process_environment("gateway", env) == env
    assert process_environment("gateway-2", env)["GATEWAY_METRICS_LISTEN"] == "127.0.0.1:9102"
    assert process_environment("gateway-3", env)["GATEWAY_METRICS_LISTEN"] == ""
    assert process_environment("gateway-3", env)["OTHER"] == "x"
    assert process_environment("registry-relay", env) == env


def test_the_system_starts_every_gateway_process_of_its_plan_in_order(tmp_path, monkeypatch):
    started = []
    system = System(listen=LISTEN, env={}, log_dir=tmp_path, gateway_processes=2)
    monkeypatch.setattr(system, "start", started.append)
    monkeypatch.setattr(system, "wait_until_ready", lambda timeout_seconds: None)

    system.start_all()

    assert started == list(processes(LISTEN, gateway_processes=2))
    assert started[-2:] == ["gateway", "gateway-2"]


class ExitedAtOnce:
    """A process of the test's own, as Popen gives it: ended with `returncode`, or still running (None)."""

    def __init__(self, pid: int, returncode: int | None = None):
        self.pid = pid
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode


def test_a_dead_gateway_process_is_started_again_alone_under_its_own_name(tmp_path, monkeypatch):
    system = System(listen=LISTEN, env={}, log_dir=tmp_path, gateway_processes=2)
    started = []

    def start(name: str) -> None:
        started.append(name)
        system.processes[name] = ExitedAtOnce(1000 + len(started))

    monkeypatch.setattr(system, "start", start)
    system.processes = {name: ExitedAtOnce(number) for number, name in enumerate(system.plan, start=100)}
    now = [0.0]
    out = io.StringIO()
    supervisor = Supervisor(system, RestartPolicy(first_delay_seconds=1), clock=lambda: now[0], out=out)
    supervisor.started()

    system.processes["gateway-2"].returncode = -9
    now[0] += 120
    supervisor.check()
    now[0] += 1
    supervisor.check()

    assert started == ["gateway-2"]
    assert "the gateway-2 process ended (exit code -9) after 120 s; starting it again in 1 s" in out.getvalue()
    assert f"started the gateway-2 process again (pid {system.processes['gateway-2'].pid})" in out.getvalue()
    assert system.processes["gateway"].pid == 100 + list(system.plan).index("gateway")
