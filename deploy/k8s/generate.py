"""Writes the catalogue's part of deploy/k8s/ from services/catalogue.py: a Deployment, a PodDisruptionBudget and a
Secret per service (placeholders, in the try-out overlay; production makes its own), the `prepare` Job, which
reads every service's Secret, and production's replicas. Run it after adding a service to the catalogue:

    .venv/bin/python deploy/k8s/generate.py

tests/unit/test_k8s.py fails while the committed files differ from what this writes.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.catalogue import CATALOGUE, ServiceEntry, processes, relay_environment, sender_environment  # noqa: E402

K8S = Path(__file__).resolve().parent
HEADER = "# Written by deploy/k8s/generate.py from services/catalogue.py: edit those, then run it again.\n"
PART_OF = "diasporahub"
IMAGE = "diasporahub"
HTTP_PORT = 8000
METRICS_PORT = 9100
CONFIG_MAP = "diasporahub-config"
OPERATOR_SECRET = "diasporahub-operator"


@dataclass(frozen=True)
class Sizing:
    """Requests and limits. Memory from benchmarks/memory.py (resident MiB after its load, issue 7): registry 100
    (a 353 peak while four argon2id hashes of 64 MiB run at once, REGISTRY_CONCURRENT_PASSWORD_HASHES), search 106,
    messaging 95, gateway 75; read off the processes of the end-to-end tests later (issue 14), with more features:
    registry 124-162 (peak 189), search 119, messaging 110, gateway 107, alerts 102, each relay process 50-78.
    CPU from the one-RPC association read (benchmarks/read_path.py, quiet, 2 cores: 390 requests/s, p99 104 ms):
    1.85 ms of gateway and 1.90 ms of registry per request, so 250m covers about 135 reads a second."""

    cpu_request: str
    memory_request: str
    memory_limit: str
    cpu_limit: str = "1"


SIZING = {
    "registry": Sizing("250m", "192Mi", "512Mi"),
    "search": Sizing("200m", "160Mi", "320Mi"),
    "messaging": Sizing("100m", "128Mi", "256Mi"),
    "gateway": Sizing("250m", "128Mi", "256Mi"),
}
DEFAULT_SIZING = Sizing("100m", "128Mi", "256Mi")
RELAY_SIZING = Sizing("50m", "96Mi", "192Mi", cpu_limit="500m")

SHARED_KEYS = {
    "messaging": {"MESSAGING_UNSUBSCRIBE_SECRET": "change-me: the key of the unsubscribe links"},
    # A Fernet key for the try-out cluster only: make production's with
    # `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`.
    "alerts": {"ALERTS_DATA_KEYS": "gxahSTgZK3H3-1UPs6YBv3g93VYBeg8O0cGlS2QNAK4="},
}
"""Keys every replica of a service must share (a key made by each pod would not open what another sealed)."""

LOCAL_FILE_DATABASES = {"search": "sqlite:////data/search.sqlite3"}
"""Services whose database is a SQLite file by design (search's inbox beside Elasticsearch), on an emptyDir."""


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def secret_name(name: str) -> str:
    return f"diasporahub-{name}"


def env_prefix(entry: ServiceEntry) -> str:
    if entry.settings is None:
        return f"{entry.name.upper()}_"
    return entry.load_settings().model_config["env_prefix"]


def service_secret(entry: ServiceEntry) -> dict:
    """Its own broker user and, with a database, its own PostgreSQL database and user (placeholders)."""
    prefix = env_prefix(entry)
    values = {f"{entry.name.upper()}_AMQP_URI": f"amqp://{entry.name}:change-me@rabbitmq:5672/diasporahub"}
    if entry.migrations is not None:
        values[f"{prefix}DATABASE_URL"] = LOCAL_FILE_DATABASES.get(
            entry.name, f"postgresql+psycopg2://{entry.name}:change-me@postgres:5432/{entry.name}"
        )
    values.update(SHARED_KEYS.get(entry.name, {}))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name(entry.name), "labels": labels(entry.name)},
        "type": "Opaque",
        "stringData": values,
    }


def probe(path: str, port: str, period: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "failureThreshold": failures}


def service_container(entry: ServiceEntry) -> dict:
    ports = [{"name": "metrics", "containerPort": METRICS_PORT}]
    if entry.http:
        ports.insert(0, {"name": "http", "containerPort": HTTP_PORT})
    told = relay_environment() | sender_environment()
    relay_told = [{"name": name, "value": told[name]} for name in told if name.startswith(f"{entry.name.upper()}_")]
    return {
        "args": entry.runner_arguments(f"0.0.0.0:{HTTP_PORT}"),
        "env": [{"name": f"{env_prefix(entry)}METRICS_LISTEN", "value": f"0.0.0.0:{METRICS_PORT}"}, *relay_told],
        "ports": ports,
        # servicekit/metrics.py: /readyz is its broker and database answering; /healthz the process serving at all.
        # The gateway's own /healthz is its HTTP server; its /readyz on port 8000 pings every service, which
        # would take every gateway out of rotation when one service is down, so it is not a probe.
        "startupProbe": probe("/healthz", "http" if entry.http else "metrics", 2, 30),
        "readinessProbe": probe("/readyz", "metrics", 5, 3),
        "livenessProbe": probe("/healthz", "http" if entry.http else "metrics", 10, 6),
    }


def metrics_probed_container(args: list[str], listen_setting: str) -> dict:
    """A process with no HTTP of its own but its /metrics (servicekit/event_metrics.py), which is its probe."""
    return {
        "args": args,
        "env": [{"name": listen_setting, "value": f"0.0.0.0:{METRICS_PORT}"}],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        "startupProbe": probe("/metrics", "metrics", 2, 30),
        "readinessProbe": probe("/metrics", "metrics", 5, 3),
        "livenessProbe": probe("/metrics", "metrics", 10, 6),
    }


def relay_container(entry: ServiceEntry) -> dict:
    """servicekit/relay.py publishes the service's outbox."""
    return metrics_probed_container(entry.relay_arguments(), f"{entry.name.upper()}_RELAY_METRICS_LISTEN")


def sender_container(entry: ServiceEntry) -> dict:
    """services/messaging/delivery/process.py sends the service's e-mails and webhooks."""
    return metrics_probed_container(entry.sender_arguments(), f"{entry.name.upper()}_SENDER_METRICS_LISTEN")


def deployment(name: str, entry: ServiceEntry, specific: dict) -> dict:
    """The Deployment of process `name`, which belongs to service `entry` (and reads its Secret)."""
    sizing = SIZING.get(name, RELAY_SIZING if name == f"{entry.name}-relay" else DEFAULT_SIZING)
    container = {
        "name": name,
        "image": IMAGE,
        "args": specific["args"],
        "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}, {"secretRef": {"name": secret_name(entry.name)}}],
        **{key: value for key, value in specific.items() if key != "args"},
        "resources": {
            "requests": {"cpu": sizing.cpu_request, "memory": sizing.memory_request},
            "limits": {"cpu": sizing.cpu_limit, "memory": sizing.memory_limit},
        },
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "var", "mountPath": "/app/var"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels(name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": labels(name),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT)},
                },
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                    "volumes": [{"name": volume, "emptyDir": {}} for volume in ("data", "var", "tmp")],
                },
            },
        },
    }


def disruption_budget(name: str) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(name)}},
    }


def process_deployments() -> list[dict]:
    """Every process of services/catalogue.py's `processes()`: each service, then its relay and its sender if it has
    them."""
    made = []
    for entry in CATALOGUE:
        made += [deployment(entry.name, entry, service_container(entry)), disruption_budget(entry.name)]
        if entry.relay:
            made += [deployment(entry.relay_name, entry, relay_container(entry)), disruption_budget(entry.relay_name)]
        if entry.sender:
            sender = deployment(entry.sender_name, entry, sender_container(entry))
            made += [sender, disruption_budget(entry.sender_name)]
    return made


def prepare_job() -> dict:
    """As the operator: makes every service's broker user from the URIs in their Secrets, declares the topology,
    migrates every database."""
    secrets = [OPERATOR_SECRET, *(secret_name(entry.name) for entry in CATALOGUE)]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "diasporahub-prepare",
            "labels": labels("prepare"),
            "annotations": {"argocd.argoproj.io/hook": "PreSync", "helm.sh/hook": "pre-install,pre-upgrade"},
        },
        "spec": {
            "backoffLimit": 4,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": labels("prepare")},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [
                        {
                            "name": "prepare",
                            "image": IMAGE,
                            "args": ["diasporahub.cli", "prepare"],
                            "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}]
                            + [{"secretRef": {"name": name}} for name in secrets],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "1", "memory": "256Mi"},
                            },
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        }
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def operator_secret() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": OPERATOR_SECRET, "labels": labels("operator")},
        "type": "Opaque",
        "stringData": {
            "DIASPORAHUB_AMQP_URI": "amqp://diasporahub:change-me@rabbitmq:5672/diasporahub",
            "DIASPORAHUB_RABBITMQ_MANAGEMENT_URL": "http://diasporahub:change-me@rabbitmq:15672",
        },
    }


AUTOSCALED = ("gateway", "search")
"""deploy/k8s/base/autoscaling.yaml scales these; the production overlay sets its own bounds."""


def production_replicas() -> list[dict]:
    """Two of every other service, so that a node can go without an outage (deploy/README.md: how many for how
    many people)."""
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {"replicas": 2}}
        for name in processes("")
        if name not in AUTOSCALED
    ]


def documents(objects: list[dict]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(item, sort_keys=False) for item in objects)


def rendered() -> dict[Path, str]:
    """Each generated file and its text."""
    return {
        K8S / "base" / "services.yaml": documents(process_deployments()),
        K8S / "base" / "prepare-job.yaml": documents([prepare_job()]),
        K8S / "overlays" / "production" / "replicas.yaml": documents(production_replicas()),
        K8S / "overlays" / "try-out" / "secrets.yaml": documents(
            [operator_secret(), *(service_secret(entry) for entry in CATALOGUE)]
        ),
    }


def main() -> None:
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
