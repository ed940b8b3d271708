"""deploy/k8s/: generated from the catalogue, rendered by `kubectl kustomize`, valid against the Kubernetes API schemas
(kubernetes-validate, offline), and deploying every service of the catalogue with what production needs."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.catalogue import CATALOGUE, processes, relay_environment, sender_environment, with_databases

K8S = Path(__file__).parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest Kubernetes still supported by its makers that these manifests target
OVERLAYS = ("production", "try-out")


def load_generator():
    spec = importlib.util.spec_from_file_location("k8s_generate", K8S / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to render deploy/k8s (kubectl kustomize)"
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def of_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for document in documents if document["kind"] == kind}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> list[dict]:
    return render(request.param)


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render("production")


def test_the_committed_manifests_are_what_the_generator_writes_from_the_catalogue():
    for path, text in load_generator().rendered().items():
        assert path.read_text() == text, f"{path} is stale: run .venv/bin/python deploy/k8s/generate.py"


def test_every_rendered_object_is_valid_against_the_kubernetes_api_schemas(rendered):
    for document in rendered:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def container_of(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_every_process_of_the_catalogue_has_a_deployment_running_its_command_and_a_disruption_budget(rendered):
    deployments = of_kind(rendered, "Deployment")
    budgets = of_kind(rendered, "PodDisruptionBudget")

    assert set(deployments) == set(processes("0.0.0.0:8000"))
    for name, arguments in processes("0.0.0.0:8000").items():
        container = container_of(deployments[name])
        assert container["args"] == arguments, name
        assert container["readinessProbe"]["httpGet"] and container["livenessProbe"]["httpGet"], name
        assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"], name
        assert budgets[name]["spec"]["selector"] == deployments[name]["spec"]["selector"], name


def test_services_are_probed_on_their_own_health_and_told_when_a_relay_process_publishes_for_them(rendered):
    deployments = of_kind(rendered, "Deployment")

    for entry in CATALOGUE:
        container = container_of(deployments[entry.name])
        environment = {variable["name"]: variable["value"] for variable in container["env"]}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}, entry.name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", entry.name
        assert environment[f"{entry.name.upper()}_METRICS_LISTEN"] == "0.0.0.0:9100", entry.name
        for variable, value in (relay_environment() | sender_environment()).items():
            if variable.startswith(f"{entry.name.upper()}_"):
                assert environment[variable] == value, entry.name


def test_each_service_reads_only_its_own_secret_and_prepare_reads_them_all(production):
    deployments = of_kind(production, "Deployment")
    job = of_kind(production, "Job")["diasporahub-prepare"]

    for entry in CATALOGUE:
        own_processes = [entry.name, *([entry.relay_name] if entry.relay else []),
                         *([entry.sender_name] if entry.sender else [])]  # fmt: skip
        for name in own_processes:
            sources = container_of(deployments[name])["envFrom"]
            secrets = [source["secretRef"]["name"] for source in sources if "secretRef" in source]
            assert secrets == [f"diasporahub-{entry.name}"], name
    job_container = job["spec"]["template"]["spec"]["containers"][0]
    job_secrets = {source["secretRef"]["name"] for source in job_container["envFrom"] if "secretRef" in source}
    assert job_container["args"] == ["diasporahub.cli", "prepare"]
    assert job_secrets == {"diasporahub-operator"} | {f"diasporahub-{entry.name}" for entry in CATALOGUE}


def test_the_try_out_secrets_give_each_service_its_broker_user_and_database():
    secrets = of_kind(render("try-out"), "Secret")

    for entry in CATALOGUE:
        assert f"{entry.name.upper()}_AMQP_URI" in secrets[f"diasporahub-{entry.name}"]["stringData"], entry.name
    for entry in with_databases():
        prefix = entry.load_settings().model_config["env_prefix"]
        assert f"{prefix}DATABASE_URL" in secrets[f"diasporahub-{entry.name}"]["stringData"], entry.name
    assert "ALERTS_DATA_KEYS" in secrets["diasporahub-alerts"]["stringData"]
    assert "MESSAGING_UNSUBSCRIBE_SECRET" in secrets["diasporahub-messaging"]["stringData"]


def test_production_holds_no_secret_and_runs_two_of_everything_with_the_gateway_behind_an_ingress(production):
    deployments = of_kind(production, "Deployment")
    autoscalers = of_kind(production, "HorizontalPodAutoscaler")

    assert of_kind(production, "Secret") == {}
    assert {document["metadata"].get("namespace") for document in production} == {"diasporahub"}
    assert set(autoscalers) == {"gateway", "search"}
    for name, deployment in deployments.items():
        replicas = autoscalers[name]["spec"]["minReplicas"] if name in autoscalers else deployment["spec"]["replicas"]
        assert replicas >= 2, name
    backend = of_kind(production, "Ingress")["gateway"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "gateway"
    assert of_kind(production, "Service")["gateway"]["spec"]["selector"]["app.kubernetes.io/name"] == "gateway"
