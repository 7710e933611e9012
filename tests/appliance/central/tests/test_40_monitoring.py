"""The monitoring stack on the booted central server (central_monitoring).

Debian's Prometheus, Alertmanager and the node, PostgreSQL and blackbox exporters run, start at boot and
listen on 127.0.0.1 only (Alertmanager's gossip port included). Prometheus runs the configuration
``monitoring/build_config.py`` generated from the test store inventory: one ``kkt-adapter`` target per till
with its labels, the central jobs scraped (``up``), every rule group of ``monitoring/rules/`` loaded, the
inventory's retention. Alertmanager runs the receivers by severity; its file holds the secrets and is not
readable by other users. The exporters answer with what the central alerts read: ``pg_up 1`` (PostgreSQL),
the pgBackRest textfile metrics once ``central-pgbackrest-metrics.service`` ran (pgBackRest reads its
repository under the unit's sandbox), and the blackbox probe of Odoo through nginx trusting the configured
CA. Grafana's provisioning and dashboards are the repository's files, wired to this Prometheus.

Every HTTP request is made inside the server (``host.run`` of its python3) to 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
STORES = REPO_ROOT / "tests" / "appliance" / "central" / "stores"
GROUP_VARS = REPO_ROOT / "tests" / "appliance" / "central" / "inventory" / "group_vars" / "central"
RULES = REPO_ROOT / "monitoring" / "rules"
#: Debian's services of the stack and the loopback port each must serve.
SERVICES = {
    "prometheus": 9090,
    "prometheus-alertmanager": 9093,
    "prometheus-node-exporter": 9100,
    "prometheus-postgres-exporter": 9187,
    "prometheus-blackbox-exporter": 9115,
}
CENTRAL_JOBS = {"postgresql", "central-node", "odoo-https"}
TEXTFILE = "/var/lib/prometheus/node-exporter/pgbackrest.prom"
ALERTMANAGER_YML = "/etc/prometheus/alertmanager.yml"
DATASOURCE = "/etc/grafana/provisioning/datasources/opticserp.yml"
DASHBOARDS = "/etc/grafana/provisioning/dashboards/opticserp.yml"

# GET a URL from inside the server; prints the body (urllib raises, so a non-2xx answer fails the command).
FETCH = (
    "import sys, urllib.request as u; sys.stdout.write(u.urlopen(sys.argv[1], timeout=30).read().decode())"
)


def fetch(host, url: str) -> str:
    return host.check_output("python3 -c %s %s", FETCH, url)


def api(host, port: int, path: str) -> dict:
    return json.loads(fetch(host, f"http://127.0.0.1:{port}{path}"))


def samples(text: str) -> dict[str, float]:
    """``name{labels}`` → value of an exposition page."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def eventually(check, timeout: float = 45.0, step: float = 1.0):
    """``check()``'s result once it no longer raises AssertionError (scrapes and reloads are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(step)


def build_config():
    path = REPO_ROOT / "monitoring" / "build_config.py"
    spec = importlib.util.spec_from_file_location("build_config", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inventory_vars() -> dict:
    return yaml.safe_load((GROUP_VARS / "monitoring.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def targets(host) -> list[dict]:
    def loaded():
        active = api(host, 9090, "/api/v1/targets?state=active")["data"]["activeTargets"]
        assert {t["scrapePool"] for t in active} >= {"kkt-adapter"} | CENTRAL_JOBS, active
        return active

    return eventually(loaded)


# --- services and listeners -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listeners(host) -> list[str]:
    """Every listening TCP and UDP socket with its process (``ss``), read once."""
    return host.check_output("ss -Hlntup").splitlines()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_runs_enabled_and_listens_on_loopback_only(host, listeners, service):
    show = host.check_output("systemctl show -p MainPID,ActiveState,UnitFileState %s.service", service)
    state = dict(line.split("=", 1) for line in show.splitlines())
    assert (state["ActiveState"], state["UnitFileState"]) == ("active", "enabled"), state
    owned = [line.split()[4] for line in listeners if f"pid={state['MainPID']}," in line]
    assert f"127.0.0.1:{SERVICES[service]}" in owned, owned
    assert all(address.startswith("127.0.0.1:") for address in owned), owned


def test_prometheus_keeps_the_inventorys_retention(host, inventory_vars):
    flags = api(host, 9090, "/api/v1/status/flags")["data"]
    assert flags["storage.tsdb.retention.time"] == inventory_vars["central_monitoring_retention"]
    assert flags["web.listen-address"] == "127.0.0.1:9090"


# --- Prometheus: targets and rules -----------------------------------------------------------------------


def test_one_kkt_adapter_target_per_till_of_the_store_inventories(targets):
    tills = [(s.store_id, t) for s in build_config().read_stores(STORES) for t in s.tills]
    assert len(tills) == 3
    expected = {(t.address, store, t.pos_id, t.name) for store, t in tills}
    found = {
        (t["labels"]["instance"], t["labels"]["store"], t["labels"]["pos_id"], t["labels"]["till"])
        for t in targets
        if t["scrapePool"] == "kkt-adapter"
    }
    assert found == expected


def test_central_jobs_are_scraped(host, targets):
    """The three exporters answer Prometheus' scrapes (a failing probe is still a successful scrape)."""

    def health() -> dict[str, str]:
        active = api(host, 9090, "/api/v1/targets?state=active")["data"]["activeTargets"]
        states = {t["scrapePool"]: t["health"] for t in active if t["scrapePool"] in CENTRAL_JOBS}
        assert states == dict.fromkeys(CENTRAL_JOBS, "up"), states
        return states

    eventually(health, timeout=60)
    probe = next(t for t in targets if t["scrapePool"] == "odoo-https")
    assert re.fullmatch(r"https://[^/]+/web/login", probe["labels"]["instance"]), probe["labels"]
    assert probe["scrapeUrl"].startswith("http://127.0.0.1:9115/probe?")


def test_every_rule_group_of_the_repository_is_loaded(host):
    expected = {}
    for path in sorted(RULES.glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            expected[group["name"]] = (f"/etc/prometheus/rules/{path.name}", len(group["rules"]))

    def loaded():
        groups = api(host, 9090, "/api/v1/rules")["data"]["groups"]
        found = {g["name"]: (g["file"], len(g["rules"])) for g in groups}
        assert found == expected
        assert all(r["health"] != "err" for g in groups for r in g["rules"]), groups

    eventually(loaded)


def test_watchdog_fires_and_reaches_alertmanager(host):
    """The whole chain: a rule evaluated, the alert sent to the Alertmanager of prometheus.yml."""

    def delivered():
        alerts = api(host, 9093, "/api/v2/alerts?filter=alertname%3D%22Watchdog%22")
        assert alerts and alerts[0]["status"]["state"] == "active", alerts

    eventually(delivered, timeout=90, step=2)


# --- Alertmanager ------------------------------------------------------------------------------------------


def test_alertmanager_runs_the_receivers_by_severity(host):
    status = api(host, 9093, "/api/v2/status")
    assert status["cluster"]["status"] == "disabled"
    config = yaml.safe_load(status["config"]["original"])
    receivers = {r["name"]: r for r in config["receivers"]}
    assert set(receivers) == {"p1", "p2", "p3", "heartbeat"}
    for name in ("p1", "p2"):
        assert receivers[name]["telegram_configs"] and receivers[name]["email_configs"]
    assert "telegram_configs" not in receivers["p3"]
    routes = {tuple(r.get("matchers", [])): r["receiver"] for r in config["route"]["routes"]}
    for severity in ("P1", "P2", "P3"):
        assert routes[(f'severity="{severity}"',)] == severity.lower()


def test_alertmanager_file_holds_the_secrets_for_root_and_prometheus_only(host):
    config = host.file(ALERTMANAGER_YML)
    assert (config.user, config.group, config.mode) == ("root", "prometheus", 0o640)
    data = yaml.safe_load(host.check_output("cat %s", ALERTMANAGER_YML))
    assert data["global"]["smtp_auth_password"]
    assert re.fullmatch(r"\d+:\S+", data["receivers"][0]["telegram_configs"][0]["bot_token"])
    assert host.run("runuser -u nobody -- cat %s", ALERTMANAGER_YML).rc != 0


# --- exporters ---------------------------------------------------------------------------------------------


def test_postgres_exporter_reaches_postgresql_as_prometheus(host):
    page = samples(fetch(host, "http://127.0.0.1:9187/metrics"))
    assert page["pg_up"] == 1.0


def test_pgbackrest_metrics_reach_node_exporter(host):
    timer = host.service("central-pgbackrest-metrics.timer")
    assert timer.is_enabled and timer.is_running
    started = host.run("systemctl start central-pgbackrest-metrics.service")
    assert started.rc == 0, started.stderr + host.run("journalctl -u central-pgbackrest-metrics -n 20").stdout
    # The unit runs as postgres: stopping it must leave the cluster's shared memory alone (no RemoveIPC=).
    assert host.run("cd / && runuser -u postgres -- psql -XAtqc 'SELECT 1'").stdout.strip() == "1"
    link = host.file(TEXTFILE)
    assert link.is_symlink and host.check_output("stat -c %%U %s", TEXTFILE) == "root"
    prom = host.file(link.linked_to)
    assert (prom.user, prom.mode) == ("postgres", 0o644)
    # The service writes its own folder only: the textfile folder stays the package's.
    assert host.file(TEXTFILE.rsplit("/", 1)[0]).mode & 0o022 == 0
    page = samples(fetch(host, "http://127.0.0.1:9100/metrics"))
    assert page["pgbackrest_info_success"] == 1.0
    stanzas = {k: v for k, v in page.items() if k.startswith("pgbackrest_stanza_status{")}
    assert stanzas and set(stanzas.values()) == {0.0}, stanzas
    backups = {k: v for k, v in page.items() if k.startswith("pgbackrest_backups{")}
    assert backups and min(backups.values()) >= 1, backups  # every stanza holds a good backup
    newest = [v for k, v in page.items() if k.startswith("pgbackrest_backup_last_timestamp_seconds{")]
    assert newest and time.time() - max(newest) < 7 * 86400


def test_blackbox_probe_reaches_odoo_through_nginx(host):
    config = yaml.safe_load(host.check_output("cat /etc/prometheus/prometheus.yml"))
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "odoo-https")
    target = job["static_configs"][0]["targets"][0]
    query = urllib.parse.urlencode({"target": target, "module": "https_odoo"})
    page = samples(fetch(host, f"http://127.0.0.1:9115/probe?{query}"))
    assert page["probe_success"] == 1.0, page
    assert page['probe_tls_version_info{version="TLS 1.3"}'] == 1.0
    assert page["probe_ssl_earliest_cert_expiry"] > time.time()


# --- Grafana -----------------------------------------------------------------------------------------------


def sha256(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


@pytest.mark.parametrize(
    ("source", "installed"),
    [
        ("monitoring/grafana/provisioning/datasources/opticserp.yml", DATASOURCE),
        ("monitoring/grafana/provisioning/dashboards/opticserp.yml", DASHBOARDS),
        ("monitoring/dashboards/fleet.json", "/var/lib/grafana/dashboards/opticserp/fleet.json"),
    ],
)
def test_grafana_provisioning_is_the_repositorys(host, source, installed):
    assert host.file(installed).sha256sum == sha256((REPO_ROOT / source).read_bytes())


def test_grafana_provisioning_points_at_this_prometheus_and_folder(host):
    datasource = yaml.safe_load(host.file(DATASOURCE).content_string)
    url = urllib.parse.urlsplit(datasource["datasources"][0]["url"])
    assert (url.hostname, url.port) == ("127.0.0.1", SERVICES["prometheus"])
    assert fetch(host, f"{datasource['datasources'][0]['url']}/-/ready").strip()
    provider = yaml.safe_load(host.file(DASHBOARDS).content_string)
    assert host.file(provider["providers"][0]["options"]["path"] + "/fleet.json").is_file


def test_grafana_is_installed_only_when_enabled_and_then_on_loopback(host):
    if not host.package("grafana").is_installed:
        # The test inventory disables it (apt.grafana.com is unreachable here): no vendor repository left
        # behind for apt to fail on, the provisioning above still in place for the day it is enabled.
        assert not host.file("/etc/apt/sources.list.d/grafana.sources").exists
        assert not host.service("grafana-server").is_running
        return
    assert host.service("grafana-server").is_running
    assert host.socket("tcp://127.0.0.1:3000").is_listening
    assert not host.socket("tcp://0.0.0.0:3000").is_listening
    assert json.loads(fetch(host, "http://127.0.0.1:3000/api/health"))["database"] == "ok"
