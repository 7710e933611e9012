"""Grafana dashboards as code stay true: the committed JSON is what the grafanalib source generates, it has
the owner's plan's four sections (§8.3) with their mappings, thresholds and units, every query filters on the
``store`` variable, names only metrics the adapter exports or the rules record and parses with promtool,
and every datasource reference is the uid Grafana's provisioning declares."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "monitoring" / "dashboards"
SOURCE = DASHBOARDS / "fleet.dashboard.py"
FLEET_JSON = DASHBOARDS / "fleet.json"
PROVISIONING = ROOT / "monitoring" / "grafana" / "provisioning"
DATASOURCES_YML = PROVISIONING / "datasources" / "opticserp.yml"
DASHBOARDS_YML = PROVISIONING / "dashboards" / "opticserp.yml"
METRICS_SOURCE = ROOT / "appliance" / "kkt_adapter" / "web" / "metrics.py"
RULES = sorted((ROOT / "monitoring" / "rules").glob("*.yml"))
UID = "opticserp-prometheus"
STORE_MATCHER = 'store=~"$store"'
#: The plan's sections, in order (row panels of the dashboard).
SECTIONS = ("Статус касс", "Circuit Breaker", "Офлайн-буфер", "Производительность")
#: Sample names a metric family exposes besides its own (counters, histograms).
SAMPLE_SUFFIXES = ("_total", "_bucket", "_sum", "_count")
#: PromQL words that are not metric names (keywords and binary operators).
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: make deps installs prometheus"
)


def _load(path: Path, name: str):
    """Import a module by path (``monitoring/`` is not a package; ``fleet.dashboard.py`` has a dot)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


queries = _load(DASHBOARDS / "queries.py", "dashboard_queries")


@pytest.fixture(scope="module")
def fleet() -> dict:
    return json.loads(FLEET_JSON.read_text(encoding="utf-8"))


def _sections(dashboard: dict) -> dict[str, list[dict]]:
    """Panels under each row, by the row's title (rows are expanded: their panels follow them)."""
    sections: dict[str, list[dict]] = {}
    current = None
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            current = sections.setdefault(panel["title"], [])
            current.extend(panel.get("panels") or [])
        else:
            assert current is not None, f"panel {panel['title']!r} before the first section"
            current.append(panel)
    return sections


def _panel(dashboard: dict, section: str, kind: str, metric: str) -> dict:
    """The one panel of ``kind`` in ``section`` whose query names ``metric``."""
    found = [
        p
        for p in _sections(dashboard)[section]
        if p["type"] == kind and any(metric in t["expr"] for t in p["targets"])
    ]
    assert len(found) == 1, f"{section}: expected one {kind} panel on {metric}, found {len(found)}"
    return found[0]


def _value_mappings(panel: dict) -> dict[str, tuple[str, str]]:
    (mapping,) = panel["fieldConfig"]["defaults"]["mappings"]
    assert mapping["type"] == "value"
    return {value: (m["text"], m["color"]) for value, m in mapping["options"].items()}


def _steps(panel: dict) -> list[tuple[str, float | None]]:
    return [(s["color"], s["value"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def _selectors(expr: str) -> list[tuple[str, str]]:
    """``(metric, matchers)`` of every vector selector of an expression (functions, keywords, grouping
    labels, numbers and durations left out)."""
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    found = []
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?", bare):
        name, matchers, call = m.groups()
        if call or name in PROMQL_WORDS:
            continue
        found.append((name, matchers or ""))
    return found


def _exported_metrics() -> set[str]:
    return set(re.findall(r'"(kkt_[a-z_]+)"', METRICS_SOURCE.read_text(encoding="utf-8")))


def _recorded_series() -> set[str]:
    return {
        rule["record"]
        for path in RULES
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def _all_exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for panels in _sections(dashboard).values() for p in panels for t in p["targets"]]


def test_committed_json_is_what_the_source_generates():
    # grafanalib is a test dependency (appliance/pyproject.toml); regenerate with the command in SOURCE.
    generated = _load(SOURCE, "fleet_dashboard").render()
    assert generated == FLEET_JSON.read_text(encoding="utf-8"), (
        "monitoring/dashboards/fleet.json is stale: run "
        ".venv/bin/python monitoring/dashboards/fleet.dashboard.py"
    )


def test_the_plan_s_four_sections_in_order(fleet):
    rows = [p["title"] for p in fleet["panels"] if p["type"] == "row"]
    assert tuple(rows) == SECTIONS
    for title, panels in _sections(fleet).items():
        assert panels, f"section {title!r} has no panels"
        for panel in panels:
            assert re.search(r"[А-Яа-яЁё]", panel["title"]), f"{panel['title']!r}: panel titles are Russian"


def test_tills_map_is_green_yellow_red(fleet):
    panel = _panel(fleet, "Статус касс", "stat", "till:status:level")
    assert _value_mappings(panel) == {
        "0": ("OK", "green"),
        "1": ("Внимание", "yellow"),
        "2": ("Авария", "red"),
    }
    assert _steps(panel) == [("green", None), ("yellow", 1), ("red", 2)]
    assert panel["fieldConfig"]["defaults"]["color"] == {"mode": "thresholds"}
    assert panel["options"]["colorMode"] == "background"
    (target,) = panel["targets"]
    assert target["instant"] and "{{pos_id}}" in target["legendFormat"]


def test_circuit_breaker_states_over_a_day(fleet):
    panel = _panel(fleet, "Circuit Breaker", "state-timeline", "kkt_circuit_breaker_state")
    # kkt_adapter/sync/breaker.py STATE_VALUES: 0 closed, 1 open, 2 half-open.
    assert _value_mappings(panel) == {
        "0": ("CLOSED", "green"),
        "1": ("OPEN", "red"),
        "2": ("HALF_OPEN", "yellow"),
    }
    legend = panel["targets"][0]["legendFormat"]
    assert "{{pos_id}}" in legend and "{{endpoint}}" in legend
    assert fleet["time"] == {"from": "now-24h", "to": "now"}


def test_offline_buffer_fill_top5_and_sync_time(fleet):
    fill = _panel(fleet, "Офлайн-буфер", "timeseries", "kkt_buffer_percent_full")
    assert fill["fieldConfig"]["defaults"]["unit"] == "percent"
    # The thresholds of OfflineBufferWarning / OfflineBufferFull (monitoring/rules/till.rules.yml).
    assert _steps(fill) == [("green", None), ("yellow", 80), ("red", 100)]
    top = _panel(fleet, "Офлайн-буфер", "bargauge", "kkt_buffer_percent_full")
    (target,) = top["targets"]
    assert target["expr"] == 'topk(5, kkt_buffer_percent_full{store=~"$store"})' and target["instant"]
    assert top["fieldConfig"]["defaults"]["unit"] == "percent"
    assert "fieldOptions" not in top["options"], "Grafana 6 options would be migrated over fieldConfig"
    sync = _panel(fleet, "Офлайн-буфер", "timeseries", "kkt_sync_duration_seconds_sum")
    assert sync["fieldConfig"]["defaults"]["unit"] == "s"
    for t in sync["targets"]:
        # No sync in the window: 0 / 1e-9 = 0 s, never 0 / 0 = NaN.
        assert "/ clamp_min(" in t["expr"] and "kkt_sync_duration_seconds_count" in t["expr"]


def test_performance_print_p95_throughput_dlq(fleet):
    p95 = _panel(fleet, "Производительность", "timeseries", "kkt_print_duration_seconds_bucket")
    assert p95["targets"][0]["expr"].startswith("histogram_quantile(0.95, sum by (pos_id, le) (rate(")
    assert p95["fieldConfig"]["defaults"]["unit"] == "s"
    assert ("red", 7) in _steps(p95), "PrintLatencyHigh's 7 s"
    throughput = _panel(fleet, "Производительность", "timeseries", "kkt_documents_delivered_total")
    assert throughput["fieldConfig"]["defaults"]["unit"] == "ops"
    assert "rate(kkt_documents_delivered_total{" in throughput["targets"][0]["expr"]
    dlq = _panel(fleet, "Производительность", "timeseries", "kkt_dlq_size")
    assert dlq["fieldConfig"]["defaults"]["unit"] == "short"


def test_store_variable_multi_with_all(fleet):
    (variable,) = fleet["templating"]["list"]
    assert variable["name"] == "store" and variable["type"] == "query"
    assert variable["query"] == 'label_values(up{job="kkt-adapter"}, store)'
    assert variable["multi"] and variable["includeAll"] and variable["allValue"] == ".*"
    assert variable["datasource"] == {"type": "prometheus", "uid": UID}


def test_every_selector_filters_on_the_store_variable(fleet):
    exprs = _all_exprs(fleet)
    assert exprs
    for expr in exprs:
        selectors = _selectors(expr)
        assert selectors, expr
        for name, matchers in selectors:
            assert STORE_MATCHER in matchers, f"{name} in {expr!r} does not filter on $store"


def test_every_metric_is_exported_or_recorded(fleet):
    exported = _exported_metrics()
    known = exported | _recorded_series() | {"up"}
    for expr in _all_exprs(fleet):
        for name, _ in _selectors(expr):
            base = next((name.removesuffix(s) for s in SAMPLE_SUFFIXES if name.endswith(s)), name)
            assert name in known or base in exported, f"{name} ({expr!r}) is neither exported nor recorded"


def test_every_datasource_is_the_provisioned_uid(fleet):
    (source,) = yaml.safe_load(DATASOURCES_YML.read_text(encoding="utf-8"))["datasources"]
    ref = {"type": source["type"], "uid": source["uid"]}
    assert ref == {"type": "prometheus", "uid": UID}
    assert fleet["__inputs"] == [], "no import-time datasource inputs: the uid is fixed"

    def walk(node, where):
        if isinstance(node, dict):
            if "datasource" in node:
                allowed = (ref, None) if node.get("type") == "row" else (ref,)
                assert node["datasource"] in allowed, f"{where}: datasource {node['datasource']!r}"
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(fleet, "dashboard")
    for panel in fleet["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == ref and panel["targets"], panel["title"]
            assert all(t["datasource"] == ref for t in panel["targets"]), panel["title"]


def test_panel_queries_lists_every_target_for_all_stores(fleet):
    listed = queries.panel_queries(FLEET_JSON)
    assert len(listed) == len(_all_exprs(fleet))
    titles = {p["title"] for panels in _sections(fleet).values() for p in panels}
    assert {title for title, _ in listed} == titles
    for title, expr in listed:
        assert "$" not in expr, f"{title}: {expr}"
        assert 'store=~".*"' in expr, f"{title}: {expr}"


@needs_promtool
def test_every_query_parses_with_promtool(tmp_path):
    # promtool has no offline "check query": each expr becomes a recording rule, which `check rules` parses.
    listed = queries.panel_queries(FLEET_JSON)
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [{"record": f"dashboard:q{n}", "expr": expr} for n, (_, expr) in enumerate(listed)],
            }
        ]
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    done = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(listed)} rules found" in done.stdout


def test_dashboard_provider_loads_the_opticserp_folder():
    config = yaml.safe_load(DASHBOARDS_YML.read_text(encoding="utf-8"))
    assert config["apiVersion"] == 1
    (provider,) = config["providers"]
    assert provider["type"] == "file" and provider["folder"] == "OpticsERP"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/opticserp"
    assert provider["allowUiUpdates"] is False


def test_datasource_is_the_local_prometheus_and_not_editable():
    config = yaml.safe_load(DATASOURCES_YML.read_text(encoding="utf-8"))
    assert config["apiVersion"] == 1
    (source,) = config["datasources"]
    assert source["uid"] == UID and source["type"] == "prometheus"
    assert source["url"] == "http://127.0.0.1:9090" and source["access"] == "proxy"
    assert source["editable"] is False


@needs_promtool
def test_sync_time_reads_zero_for_a_till_without_syncs(tmp_path):
    # The dashboard's own queries on two tills: t1 syncs once a minute taking 2 s, t2 has not synced for the
    # whole window (its counters stand still). t2 reads 0 s instead of NaN; the fleet line averages t1 only.
    per_till, overall = (
        e for t, e in queries.panel_queries(FLEET_JSON) if t == "Среднее время синхронизации"
    )
    rules = {
        "groups": [
            {
                "name": "sync",
                "rules": [
                    {"record": "dashboard:sync_per_till", "expr": per_till},
                    {"record": "dashboard:sync_overall", "expr": overall},
                ],
            }
        ]
    }
    (tmp_path / "sync.rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")

    def series(name: str, till: str, values: str) -> dict:
        return {"series": f'{name}{{store="s1",pos_id="{till}"}}', "values": values}

    test = {
        "rule_files": ["sync.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    series("kkt_sync_duration_seconds_sum", "t1", "0+2x10"),
                    series("kkt_sync_duration_seconds_count", "t1", "0+1x10"),
                    series("kkt_sync_duration_seconds_sum", "t2", "5x10"),
                    series("kkt_sync_duration_seconds_count", "t2", "3x10"),
                ],
                "promql_expr_test": [
                    {
                        "expr": "dashboard:sync_per_till",
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": 'dashboard:sync_per_till{pos_id="t1"}', "value": 2},
                            {"labels": 'dashboard:sync_per_till{pos_id="t2"}', "value": 0},
                        ],
                    },
                    {
                        "expr": "dashboard:sync_overall",
                        "eval_time": "10m",
                        "exp_samples": [{"labels": "dashboard:sync_overall", "value": 2}],
                    },
                ],
            }
        ],
    }
    (tmp_path / "sync.test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "sync.test.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
