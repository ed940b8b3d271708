"""deploy/monitoring/: Prometheus's own tool accepts the scrape configuration and the alerting rules, and the rules'
tests pass (`promtool test rules`); every process is scraped; the dashboard and the rules ask only for metrics that
DiasporaHub serves."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from services.catalogue import processes

ROOT = Path(__file__).parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
HELP_REQUEST_METRICS = {"diasporahub_help_requests", "diasporahub_help_requests_oldest_unclaimed_age_seconds"}
"""What the alerts service's collector serves (deploy/README.md, Metrics): the rules and the dashboard use them."""


def promtool(*arguments: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    assert tool, "promtool is needed (Debian: apt-get install prometheus; scripts/test-prerequisites does)"
    return subprocess.run([tool, *arguments], cwd=MONITORING, capture_output=True, text=True, check=False)


def served_metric_names() -> set[str]:
    """Every `diasporahub_…` metric named in the code of servicekit/ and services/ (histograms add their suffixes)."""
    names = set()
    for path in [*ROOT.glob("servicekit/**/*.py"), *ROOT.glob("services/**/*.py")]:
        names.update(re.findall(r'"(diasporahub_[a-z_]+)"', path.read_text()))
    suffixed = {f"{name}{suffix}" for name in names for suffix in ("_bucket", "_count", "_sum")}
    return names | suffixed | HELP_REQUEST_METRICS


def asked_metric_names(expressions: list[str]) -> set[str]:
    return {name for expression in expressions for name in re.findall(r"\bdiasporahub_[a-z_]+", expression)}


def test_promtool_accepts_the_scrape_configuration_and_its_rules():
    checked = promtool("check", "config", "prometheus.yaml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerting_rules_fire_when_their_tests_say():
    tested = promtool("test", "rules", "alerts.test.yaml")

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_process_of_the_catalogue_is_scraped():
    configuration = yaml.safe_load((MONITORING / "prometheus.yaml").read_text())
    targets = {target for job in configuration["scrape_configs"] for group in job["static_configs"]
               for target in group["targets"]}  # fmt: skip

    assert targets == {f"{name}:9100" for name in processes("")}


def test_the_rules_and_the_dashboard_ask_only_for_metrics_that_are_served():
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    rule_expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    panel_expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]

    assert {rule["alert"] for group in rules["groups"] for rule in group["rules"]} >= {
        "OutboxEventsWaiting", "EventsDeadLettered", "UrgentHelpRequestUnclaimed"
    }  # fmt: skip
    assert asked_metric_names(rule_expressions + panel_expressions) <= served_metric_names()
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_the_compose_file_gives_every_process_its_metrics_port():
    services = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]

    for name in processes(""):
        assert services[name]["environment"][f"{name.upper().replace('-', '_')}_METRICS_LISTEN"] == "0.0.0.0:9100"
