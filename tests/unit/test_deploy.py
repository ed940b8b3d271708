"""The compose file is valid and runs every service the supervisor knows."""

import subprocess
from pathlib import Path

import yaml

from diasporahub.system import SERVICES

COMPOSE_FILE = Path(__file__).parents[2] / "deploy" / "compose.yaml"


def test_docker_compose_accepts_the_compose_file():
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "--quiet"], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_the_compose_file_runs_every_service_with_its_runner():
    compose = yaml.safe_load(COMPOSE_FILE.read_text())

    commands = {name: spec.get("command", []) for name, spec in compose["services"].items()}
    for name, service_path in SERVICES.items():
        assert commands[name][:2] == ["servicekit.runner", service_path]
    assert commands["prepare"] == ["diasporahub.cli", "prepare"]
