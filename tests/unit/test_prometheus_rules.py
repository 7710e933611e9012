"""Prometheus rules: promtool lints and unit-tests every rules file, every alert (each severity step) and
every recording rule has a unit test, and each metric a rule reads exists — ``kkt_*`` exported by the
adapter, the others made by the central exporters whose configuration or script EXTERNAL_METRICS names."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "monitoring" / "rules").glob("*.yml"))
TESTS = sorted((ROOT / "monitoring" / "tests").glob("*.test.yml"))
METRICS_SOURCE = ROOT / "appliance" / "kkt_adapter" / "web" / "metrics.py"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: make deps installs prometheus"
)

#: Metric (not kkt_*, not ``up``) → the file that makes it exist on the central server. pg_up and the probe_*
#: metrics are built into Debian's prometheus-postgres-exporter and prometheus-blackbox-exporter: their file
#: is the exporter's configuration. The others are produced by what the file declares (BUILT_IN: the rest).
EXTERNAL_METRICS = {
    "pg_up": "monitoring/exporters/postgres-queries.yml",
    "pg_stat_statements_top_mean_seconds": "monitoring/exporters/postgres-queries.yml",
    "probe_success": "monitoring/exporters/blackbox.yml",
    "probe_ssl_earliest_cert_expiry": "monitoring/exporters/blackbox.yml",
    "pgbackrest_backup_last_timestamp_seconds": "monitoring/exporters/pgbackrest_metrics.py",
    "pgbackrest_backups": "monitoring/exporters/pgbackrest_metrics.py",
    "pgbackrest_info_success": "monitoring/exporters/pgbackrest_metrics.py",
    "opticserp_till_backup_newest_snapshot_timestamp_seconds": (
        "ansible/roles/central_till_backups/files/till_backups_pull.py"
    ),
    "opticserp_till_backup_last_success_timestamp_seconds": (
        "ansible/roles/central_till_backups/files/till_backups_pull.py"
    ),
}
BUILT_IN = {"pg_up", "probe_success", "probe_ssl_earliest_cert_expiry"}
#: Suffixes Prometheus adds to a family's samples (counters, histograms).
SAMPLE_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")
#: PromQL words that look like metric names: binary operators, modifiers, number literals.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
#: Label lists of grouping and vector matching: names inside are labels, not metrics.
LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text("utf-8"))


def rules(path: Path) -> list[dict]:
    return [rule for group in load(path)["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: strings, label matchers, label lists, range and subquery
    durations, function and aggregation calls, keywords and recording rules (``a:b:c``) left out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = LABEL_LISTS.sub(" ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", expr):
        name, call = match.groups()
        if call or ":" in name or name.lower() in KEYWORDS or name == "up":
            continue
        names.add(name)
    return names


def used_metrics() -> dict[str, set[str]]:
    """Metric name → the rules files whose expressions read it."""
    found: dict[str, set[str]] = {}
    for path in RULES:
        for rule in rules(path):
            for name in metric_names(rule["expr"]):
                found.setdefault(name, set()).add(path.name)
    return found


def unit_tests(kind: str) -> dict[str, list[dict]]:
    """Rules file name → its unit-test entries of one kind (``alert_rule_test``, ``promql_expr_test``)."""
    found: dict[str, list[dict]] = {}
    for path in TESTS:
        spec = load(path)
        for rule_file in spec["rule_files"]:
            entries = [entry for test in spec["tests"] for entry in test.get(kind) or []]
            found.setdefault((path.parent / rule_file).resolve().name, []).extend(entries)
    return found


def test_metric_names_are_read_from_expressions():
    expr = 'max by (store, pos_id) (label_replace(2 * (up{job="x"} == bool 0), "check", "down", "", ""))'
    assert metric_names(expr) == set()
    expr = 'histogram_quantile(0.95, sum by (le) (rate(a_bucket{le!="1"}[15m]))) > 7 and on (pos_id) b'
    assert metric_names(expr) == {"a_bucket", "b"}
    assert metric_names("store:tills_down:count == store:tills:count and time() - c > 26 * 3600") == {"c"}


@needs_promtool
@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_are_valid(path):
    done = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_rules_fire_exactly_when_their_unit_tests_say(path):
    done = subprocess.run(
        [PROMTOOL, "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_every_alert_and_severity_step_is_unit_tested(path):
    # An alert with several severity steps (FNUnconfirmedAging P3/P2/P1) is covered when a test of its
    # rules file expects each step to fire.
    entries = unit_tests("alert_rule_test").get(path.name, [])
    named = {entry["alertname"] for entry in entries}
    fired = {
        (entry["alertname"], (alert.get("exp_labels") or {}).get("severity"))
        for entry in entries
        for alert in entry.get("exp_alerts") or []
    }
    missing = []
    for rule in rules(path):
        if "alert" not in rule:
            continue
        step = (rule["alert"], rule.get("labels", {}).get("severity"))
        if rule["alert"] not in named:
            missing.append(f"{rule['alert']}: no alert_rule_test")
        elif step not in fired:
            missing.append(f"{rule['alert']} severity {step[1]}: no test expects it to fire")
    assert not missing, f"{path.name}: {missing}"


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_every_recording_rule_is_unit_tested(path):
    exprs = " ".join(entry["expr"] for entry in unit_tests("promql_expr_test").get(path.name, []))
    missing = [
        rule["record"]
        for rule in rules(path)
        if "record" in rule and not re.search(rf"(?<![\w:]){re.escape(rule['record'])}(?![\w:])", exprs)
    ]
    assert not missing, f"{path.name}: recording rules without a promql_expr_test: {missing}"


def test_every_kkt_metric_is_exported():
    # Runbook pages of the alerts: tests/unit/test_runbooks.py.
    exported = METRICS_SOURCE.read_text(encoding="utf-8")
    for name, files in sorted(used_metrics().items()):
        if not name.startswith("kkt_"):
            continue
        family = next((name.removesuffix(s) for s in SAMPLE_SUFFIXES if name.endswith(s)), name)
        assert f'"{name}"' in exported or f'"{family}"' in exported, (
            f"{name} is used by {sorted(files)} but not exported"
        )


def test_every_other_metric_has_its_exporter():
    unknown = {
        name: sorted(files)
        for name, files in used_metrics().items()
        if not name.startswith("kkt_") and name not in EXTERNAL_METRICS
    }
    assert not unknown, f"metrics read by rules but missing from EXTERNAL_METRICS: {unknown}"


@pytest.mark.parametrize(("name", "source"), sorted(EXTERNAL_METRICS.items()))
def test_external_metric_is_made_by_its_file(name, source):
    path = ROOT / source
    assert path.exists(), f"{name}: {source} does not exist"
    if name in BUILT_IN:
        return
    if path.suffix == ".yml":
        # postgres_exporter's custom queries: query <name> with a column <col> exports <name>_<col>.
        made = {
            f"{query}_{column}"
            for query, spec in load(path).items()
            for metric in spec.get("metrics", [])
            for column in metric
        }
        assert name in made, f"{name}: no query and column of {source} export it (it exports {sorted(made)})"
    else:
        assert name in path.read_text("utf-8"), f"{name} does not appear in {source}"
