"""deploy/monitoring/: Prometheus's own tool accepts the scrape configuration and the alerting rules, and the rules'
tests pass (`promtool test rules`); every process is scraped; the dashboard and the rules ask only for metrics that
DiasporaHub serves."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from services.alerts.metrics import TIME_TO_CLAIM_BUCKETS
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


def time_to_claim_series(urgency: str, claimed_within: dict[float, int]) -> list[dict]:
    """The bucket series of one urgency: nothing at first, then `claimed_within[bound]` claims an hour later
    (cumulative, as Prometheus buckets are); every other bound counts as the next smaller one given."""
    series, count = [], 0
    for bound in (*TIME_TO_CLAIM_BUCKETS, float("inf")):
        count = claimed_within.get(bound, count)
        le = "+Inf" if bound == float("inf") else repr(bound)
        name = f'diasporahub_help_requests_time_to_claim_seconds_bucket{{urgency="{urgency}", le="{le}"}}'
        series.append({"series": name, "values": f"0 {count}"})
    return series


def test_the_dashboard_shows_the_median_and_95th_percentile_time_to_claim_per_urgency(tmp_path):
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    (panel,) = [
        panel for panel in dashboard["panels"]
        if any("diasporahub_help_requests_time_to_claim_seconds" in target["expr"] for target in panel["targets"])
    ]  # fmt: skip
    expressions = {target["legendFormat"]: target["expr"] for target in panel["targets"]}
    # Four urgent requests claimed within 5, 15, 15 and 30 minutes; two others within an hour and two hours.
    urgent = {60.0: 0, 300.0: 1, 900.0: 3, 1800.0: 4}
    later = {1800.0: 0, 3600.0: 1, 7200.0: 2}
    expected = {"immediate": {"p50": 600, "p95": 1620}, "future": {"p50": 3600, "p95": 6840}}
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1h",
            "input_series": time_to_claim_series("immediate", urgent) + time_to_claim_series("future", later),
            "promql_expr_test": [
                {"expr": expressions["{{urgency}} " + quantile], "eval_time": "1h", "exp_samples": [
                    {"labels": f'{{urgency="{urgency}"}}', "value": values[quantile]}
                    for urgency, values in expected.items()
                ]}
                for quantile in ("p50", "p95")
            ],
        }],
    }  # fmt: skip
    (tmp_path / "time_to_claim.test.yaml").write_text(yaml.safe_dump(tests))

    tested = promtool("test", "rules", str(tmp_path / "time_to_claim.test.yaml"))

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert panel["fieldConfig"]["defaults"]["unit"] == "s"
