"""The catalogue of services: every entry names what exists, and `diasporahub run` reads it without importing
any service, bus or database library."""

import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import pytest

from diasporahub.system import System
from gateway.routes.health import PINGED_SERVICES
from gateway.service import GatewayService
from servicekit.rpc import TimedRpcProxy
from services.catalogue import CATALOGUE, pinged_names, processes, service, with_databases

SUPERVISOR_RSS_LIMIT_KB = 50 * 1024
UNNEEDED_LIBRARIES = {"eventlet", "kombu", "amqp", "nameko", "sqlalchemy", "alembic", "pydantic", "werkzeug", "tqdm"}
PROJECT_PACKAGES = ("contracts", "servicekit", "services", "gateway", "diasporahub")
# The registry's client side of the import (csv and dataclasses), for the parser of `diasporahub import`.
PROJECT_MODULES_IT_NEEDS = {
    "diasporahub",
    "diasporahub.bulk",
    "diasporahub.cli",
    "diasporahub.system",
    "services",
    "services.catalogue",
    "services.registry",
    "services.registry.imports",
    "services.registry.imports.chunked",
}
SUPERVISOR = "from diasporahub import cli, system\ncli._parser().parse_args(['run'])\n"


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.name)
def test_each_entry_names_a_nameko_service_of_its_name(entry):
    assert entry.load().name == entry.name


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.name)
def test_each_entrys_settings_class_reads_the_environment(entry):
    assert entry.settings is not None
    assert entry.load_settings() is not None


@pytest.mark.parametrize("entry", with_databases(), ids=lambda entry: entry.name)
def test_each_service_with_a_database_has_migrations_and_a_database_url(entry, monkeypatch):
    assert importlib.resources.files(entry.migrations).joinpath("migrations", "env.py").is_file()
    prefix = entry.load_settings().model_config["env_prefix"]
    monkeypatch.setenv(f"{prefix}DATABASE_URL", "sqlite:///elsewhere.sqlite3")

    assert entry.database_url() == "sqlite:///elsewhere.sqlite3"


def test_names_are_unique_and_one_service_serves_http():
    assert len({entry.name for entry in CATALOGUE}) == len(CATALOGUE)
    assert [entry.name for entry in CATALOGUE if entry.http] == ["gateway"]
    assert service("registry").name == "registry"
    with pytest.raises(KeyError):
        service("nobody")


def test_only_http_services_are_given_the_listen_address():
    assert service("gateway").runner_arguments("127.0.0.1:9000") == [
        "servicekit.runner",
        "gateway.service:GatewayService",
        "--listen",
        "127.0.0.1:9000",
    ]
    assert service("registry").runner_arguments("127.0.0.1:9000") == [
        "servicekit.runner",
        "services.registry.service:RegistryService",
    ]


def test_readyz_pings_the_pinged_services_through_a_proxy_of_the_gateway_each():
    assert PINGED_SERVICES == pinged_names() == ("registry", "search", "messaging", "alerts")
    for name in PINGED_SERVICES:
        proxy = getattr(GatewayService, name)
        assert isinstance(proxy, TimedRpcProxy)
        assert proxy.target_service == name


def test_the_supervisor_starts_the_catalogue_in_order(tmp_path, monkeypatch):
    started = []
    system = System(listen="127.0.0.1:9000", env={}, log_dir=tmp_path)
    monkeypatch.setattr(system, "start", started.append)
    monkeypatch.setattr(system, "wait_until_ready", lambda timeout_seconds: None)

    system.start_all()

    assert started == list(processes("127.0.0.1:9000"))
    assert [name for name in started if not name.endswith(("-relay", "-sender"))] == [e.name for e in CATALOGUE]
    assert started.index("registry-relay") == started.index("registry") + 1


def test_services_with_an_outbox_have_a_relay_process_and_the_supervisor_tells_them():
    assert service("registry").relay_arguments() == [
        "servicekit.relay",
        "registry",
        "services.registry.settings:RegistrySettings",
    ]
    assert [entry.name for entry in CATALOGUE if entry.relay] == ["registry", "messaging", "alerts"]
    assert System(env={}, log_dir=Path("var/log")).env == {
        "REGISTRY_OUTBOX_RELAY": "process",
        "MESSAGING_OUTBOX_RELAY": "process",
        "ALERTS_OUTBOX_RELAY": "process",
        "MESSAGING_DELIVERY_SENDER": "process",
    }
    with pytest.raises(ValueError):
        service("gateway").relay_arguments()


def test_messaging_s_deliveries_are_sent_by_a_process_of_its_own_started_after_its_relay():
    plan = processes("127.0.0.1:9000")

    assert [entry.name for entry in CATALOGUE if entry.sender] == ["messaging"]
    assert plan["messaging-sender"] == ["services.messaging.delivery.process"]
    assert list(plan).index("messaging-sender") == list(plan).index("messaging-relay") + 1
    with pytest.raises(ValueError):
        service("registry").sender_arguments()


def test_the_supervisor_imports_no_service_bus_or_database_library():
    loaded = json.loads(run_python(f"import json, sys\n{SUPERVISOR}print(json.dumps(sorted(sys.modules)))\n"))

    assert [name for name in loaded if name.partition(".")[0] in UNNEEDED_LIBRARIES] == []
    assert {name for name in loaded if name.partition(".")[0] in PROJECT_PACKAGES} == PROJECT_MODULES_IT_NEEDS


def test_the_supervisor_process_stays_small():
    """VmHWM: the process's peak resident memory (getrusage's would include the forking test process's)."""
    status = run_python(f"{SUPERVISOR}print(open('/proc/self/status').read())\n")
    [peak_kb] = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]

    assert peak_kb <= SUPERVISOR_RSS_LIMIT_KB
