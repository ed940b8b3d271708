"""The compose file is valid and runs exactly the services of the catalogue, each as `diasporahub run` does."""

import subprocess
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from services.catalogue import CATALOGUE, relay_environment, sender_environment, with_databases

COMPOSE_FILE = Path(__file__).parents[2] / "deploy" / "compose.yaml"
COMPOSE_LISTEN = "0.0.0.0:8000"


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_docker_compose_accepts_the_compose_file():
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config", "--quiet"], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_the_compose_file_runs_every_service_of_the_catalogue_with_its_runner():
    commands = {name: spec.get("command", []) for name, spec in compose_services().items()}

    for entry in CATALOGUE:
        assert commands.get(entry.name) == entry.runner_arguments(COMPOSE_LISTEN), entry.name
    assert commands["prepare"] == ["diasporahub.cli", "prepare"]


def test_every_outbox_relay_of_the_catalogue_runs_in_its_own_service_and_the_services_know_it():
    services = compose_services()
    relays = {name for name, spec in services.items() if spec.get("command", [None])[0] == "servicekit.relay"}

    assert relays == {entry.relay_name for entry in CATALOGUE if entry.relay}
    for entry in CATALOGUE:
        if entry.relay:
            relay = services[entry.relay_name]
            assert relay["command"] == entry.relay_arguments(), entry.name
            assert f"{entry.name.upper()}_AMQP_URI" in relay["environment"], entry.name
            assert services[entry.name]["environment"].items() >= relay_environment().items(), entry.name


def test_messaging_s_sender_runs_in_its_own_service_and_messaging_is_told_not_to_send_as_well():
    services = compose_services()
    senders = {entry.sender_name: entry for entry in CATALOGUE if entry.sender}

    assert set(senders) == {"messaging-sender"}
    for name, entry in senders.items():
        assert services[name]["command"] == entry.sender_arguments()
        assert services[name]["depends_on"]["prepare"] == {"condition": "service_completed_successfully"}
        assert (
            services[name]["environment"]["MESSAGING_DATABASE_URL"]
            == services[entry.name]["environment"]["MESSAGING_DATABASE_URL"]
        )
        assert services[entry.name]["environment"].items() >= sender_environment().items(), entry.name


def test_the_compose_file_runs_no_service_the_catalogue_does_not_list():
    runs = {name for name, spec in compose_services().items() if spec.get("command", [None])[0] == "servicekit.runner"}

    assert runs == {entry.name for entry in CATALOGUE}


def test_no_service_publishes_a_port_but_the_buffering_proxy_in_front_of_the_gateway_and_each_waits_for_prepare():
    services = compose_services()
    proxy_configuration = (COMPOSE_FILE.parent / "nginx" / "gateway.conf").read_text()

    for entry in CATALOGUE:
        assert not services[entry.name].get("ports"), entry.name
        assert services[entry.name]["depends_on"]["prepare"] == {"condition": "service_completed_successfully"}
    assert services["proxy"]["ports"] == ["8000:8080"]
    assert "server gateway:8000;" in proxy_configuration and "proxy_request_buffering on;" in proxy_configuration


def test_each_service_with_a_database_has_a_postgresql_database_and_user_of_its_own_and_search_elasticsearch():
    services = compose_services()
    urls = {entry.name: services[entry.name]["environment"][database_variable(entry)] for entry in with_databases()}
    postgresql = {name: make_url(url) for name, url in urls.items() if url.startswith("postgresql")}

    assert set(postgresql) == {entry.name for entry in with_databases()} - {"search"}
    assert all(url.database == url.username == name for name, url in postgresql.items())
    assert services["search"]["environment"]["SEARCH_ELASTICSEARCH_URL"].endswith("http://elasticsearch:9200}")
    assert "profiles" not in services["elasticsearch"]


def database_variable(entry) -> str:
    return f"{entry.load_settings().model_config['env_prefix']}DATABASE_URL"


def test_prepare_and_every_service_with_a_database_are_told_where_it_is():
    services = compose_services()

    for entry in with_databases():
        variable = database_variable(entry)
        for name in ("prepare", entry.name):
            assert variable in services[name]["environment"], (name, variable)
