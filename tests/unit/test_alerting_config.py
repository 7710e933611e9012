"""monitoring/build_config.py: the Prometheus and Alertmanager configs generated from the inventories.

Checked by the real tools (``amtool check-config``, ``promtool check config``) and by Alertmanager's own
routing (``amtool config routes test``): every severity reaches its receiver, the Watchdog only the
heartbeat receiver, a store's night-time alerts go through a route limited to its opening hours; bad
inventories are refused with the file and the key. Muting and inhibition at work: the monitoring drill
(tests/poc/test_monitoring_drill.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "monitoring" / "build_config.py"
SETTINGS = ROOT / "monitoring" / "alerting.example.yml"
INVENTORIES = ROOT / "ansible" / "inventories"
AMTOOL = shutil.which("amtool")
PROMTOOL = shutil.which("promtool")
needs_tools = pytest.mark.skipif(
    AMTOOL is None or PROMTOOL is None, reason="amtool/promtool missing: make deps installs them"
)


def build(tmp_path: Path, inventories: Path = INVENTORIES, settings: Path | None = None):
    if settings is None:
        data = yaml.safe_load(SETTINGS.read_text("utf-8"))
        data["rules_dir"] = str(ROOT / "monitoring" / "rules")  # promtool then checks the real rules too
        settings = tmp_path / "alerting.yml"
        settings.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(BUILD), "--inventories", str(inventories), "--settings", str(settings),
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    return done, out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    done, out = build(tmp_path_factory.mktemp("mon"))
    assert done.returncode == 0, done.stderr
    return out


def route(config: Path, *labels: str) -> str:
    done = subprocess.run(
        [AMTOOL, "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_tools
def test_both_configs_pass_their_own_tools(generated):
    done = subprocess.run(
        [AMTOOL, "check-config", str(generated / "alertmanager.yml")], capture_output=True, text=True
    )
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr
    done = subprocess.run(
        [PROMTOOL, "check", "config", str(generated / "prometheus.yml")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 3 rule files found" in done.stdout  # rules loaded through the config's glob


@needs_tools
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (("alertname=OfflineBufferFull", "severity=P1", "store=001", "pos_id=store001-till01"), "p1"),
        (("alertname=OfflineBufferWarning", "severity=P2", "store=001", "pos_id=store001-till01"), "p2"),
        (("alertname=FNExpirySoon", "severity=P3", "store=001", "pos_id=store001-till01"), "p3"),
        (("alertname=PostgreSQLDown", "severity=P1"), "p1"),
        (("alertname=CertificateExpirySoon", "severity=P2"), "p2"),
        (("alertname=Watchdog", "severity=heartbeat"), "heartbeat"),
        (("alertname=SomethingNew",), "p3"),  # no severity: still reaches a mailbox
        (("alertname=TillDown", "severity=P2", "store=001", "pos_id=store001-till01"), "p2"),
        (("alertname=StoreDown", "severity=P1", "store=001"), "p1"),
        (("alertname=TillDown", "severity=P2", "store=999"), "p2"),  # a store without hours: around the clock
    ],
)
def test_every_severity_reaches_its_receiver(generated, labels, receiver):
    assert route(generated / "alertmanager.yml", *labels) == receiver


def test_store_alerts_route_only_during_opening_hours(generated):
    config = yaml.safe_load((generated / "alertmanager.yml").read_text("utf-8"))
    hours_routes = [r for r in config["route"]["routes"] if r.get("active_time_intervals")]
    assert {r["active_time_intervals"][0] for r in hours_routes} == {"store-001-open"}
    assert {m for r in hours_routes for m in r["matchers"] if m.startswith("severity")} == {
        'severity="P1"',
        'severity="P2"',
        'severity="P3"',
    }
    assert all('alertname=~"TillDown|HeartbeatLost|StoreDown"' in r["matchers"] for r in hours_routes)
    (interval,) = config["time_intervals"]
    assert interval == {
        "name": "store-001-open",
        "time_intervals": [
            {"weekdays": ["monday:friday"], "times": [{"start_time": "09:00", "end_time": "21:00"}],
             "location": "Europe/Moscow"},
            {"weekdays": ["saturday", "sunday"], "times": [{"start_time": "10:00", "end_time": "20:00"}],
             "location": "Europe/Moscow"},
        ],
    }  # fmt: skip
    store_down = next(r for r in config["inhibit_rules"] if r["source_matchers"] == ['alertname="StoreDown"'])
    assert store_down["equal"] == ["store"]


def test_prometheus_scrapes_every_till_of_the_inventory(generated):
    config = yaml.safe_load((generated / "prometheus.yml").read_text("utf-8"))
    tills = next(j for j in config["scrape_configs"] if j["job_name"] == "kkt-adapter")
    assert tills["honor_labels"] is True
    assert tills["static_configs"] == [
        {
            "targets": ["192.168.10.11:9101"],
            "labels": {"store": "001", "pos_id": "store001-till01", "till": "till-01"},
        },
        {
            "targets": ["192.168.10.12:9101"],
            "labels": {"store": "001", "pos_id": "store001-till02", "till": "till-02"},
        },
    ]
    jobs = {j["job_name"] for j in config["scrape_configs"]}
    assert jobs == {"kkt-adapter", "postgresql", "central-node", "odoo-https"}  # the jobs the rules name


def copy_inventory(tmp_path: Path) -> Path:
    inventories = tmp_path / "inventories"
    shutil.copytree(INVENTORIES / "store-001-example", inventories / "store-001-example")
    return inventories


def test_bad_inventories_are_refused_with_file_and_key(tmp_path):
    inventories = copy_inventory(tmp_path)
    main = inventories / "store-001-example/group_vars/all/main.yml"
    text = main.read_text("utf-8")
    main.write_text(text.replace('close: "21:00"', 'close: "08:00"'), "utf-8")
    done, _ = build(tmp_path, inventories)
    assert done.returncode == 2
    assert "group_vars/all: opening hours '09:00'–'08:00': HH:MM with open before close" in done.stderr
    main.write_text(text.replace('"monday:friday"', '"monday:sunday"'), "utf-8")  # the week starts on Sunday
    done, _ = build(tmp_path, inventories)
    assert done.returncode == 2 and "opening hours days ['monday:sunday']: use monday" in done.stderr
    main.write_text(text, "utf-8")
    host = inventories / "store-001-example/host_vars/till-02/main.yml"
    host.write_text(host.read_text("utf-8").replace("store001-till02", "store001-till01"), "utf-8")
    done, _ = build(tmp_path, inventories)
    assert done.returncode == 2 and "pos_id store001-till01 appears in" in done.stderr
    host.write_text(host.read_text("utf-8").replace("store001-till01", '"{{ inventory_hostname }}"'), "utf-8")
    done, _ = build(tmp_path, inventories)
    assert done.returncode == 2 and "till_adapter_pos_id: templated value" in done.stderr
    done, _ = build(tmp_path, INVENTORIES, settings=tmp_path / "none.yml")
    assert done.returncode == 2 and "none.yml: missing or empty" in done.stderr
