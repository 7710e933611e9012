"""Monitoring drill: real tills scraped by a real Prometheus, alerts routed by a real Alertmanager.

Two tills of store 001 (KKT emulator + adapter under gunicorn), each in its own network namespace with its
metrics listener on the namespace's data link, and a third till of store 002 that is switched off (its
store is closed now). ``monitoring/build_config.py`` turns a temporary inventory of both stores into
``prometheus.yml`` and ``alertmanager.yml``; Alertmanager's receivers are the Telegram, SMTP and heartbeat
stand-ins (tests/kit/standins/alert_receivers.py). The rules are ``monitoring/rules/`` with every ``for``
divided by 60 (tests/kit/monitoring_stack.py): the promtool tests prove the real ``for``s.

The drill shows, in order: every dashboard query returns data; till A's buffer over 80 % → P2
OfflineBufferWarning reaches the P2 chat and mailbox; at 100 % the P1 OfflineBufferFull takes the P1 route
and inhibits the warning; till B's link down → TillDown (P2) reaches the P2 chat; then till A's link down →
one StoreDown (P1) for store 001, both TillDowns inhibited; store 002's TillDown and StoreDown fire in
Prometheus all along but reach no receiver (outside its opening hours); the Watchdog reaches the heartbeat
receiver. It prints each alert's time from the cause to the receiver.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.conftest import sale_body
from tests.kit import monitoring_stack, netlab
from tests.kit.devstack import AdapterProcess, EmulatorProcess, free_port
from tests.kit.fleet import FAST_TIMERS
from tests.kit.monitoring_stack import Alertmanager, Prometheus, time_scaled_rules
from tests.kit.netlab import NetLab
from tests.kit.standins.alert_receivers import AlertReceivers

ROOT = Path(__file__).resolve().parents[2]
CAPACITY = 10  # receipts: 8 put the buffer at 80 %, 10 at 100 %
P1_CHAT, P2_CHAT = -1001, -1002
BUILD_CONFIG = ROOT / "monitoring" / "build_config.py"

pytestmark = pytest.mark.skipif(
    (netlab.unavailable_reason() or monitoring_stack.unavailable_reason()) is not None,
    reason=str(netlab.unavailable_reason() or monitoring_stack.unavailable_reason()),
)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def closed_now() -> dict:
    """Opening hours that exclude the present moment (UTC): one hour, two hours from now (or 00–01)."""
    hour = datetime.now(UTC).hour
    start = hour + 2 if hour < 20 else 0
    return {
        "timezone": "Etc/UTC",
        "hours": [{"days": ["sunday:saturday"], "open": f"{start:02d}:00", "close": f"{start + 1:02d}:00"}],
    }


def write_inventory(root: Path, store: str, tills: dict[str, tuple[str, str, int]], hours: dict) -> None:
    """A store inventory as field engineers keep it: hosts, store vars, per-till identity."""
    folder = root / f"store-{store}-drill"
    hosts = {name: {"ansible_host": host} for name, (host, _, _) in tills.items()}
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"tills": {"hosts": hosts}}}}))
    store_vars = {"store_id": store, "store_opening_hours": hours}
    (folder / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(store_vars))
    for name, (_, pos_id, port) in tills.items():
        (folder / "host_vars" / name).mkdir(parents=True)
        till_vars = {"till_adapter_pos_id": pos_id, "till_adapter_metrics_port": port}
        (folder / "host_vars" / name / "main.yml").write_text(yaml.safe_dump(till_vars))


def drill_settings(path: Path, rules: Path, alertmanager_port: int, receivers: AlertReceivers) -> Path:
    settings = yaml.safe_load((ROOT / "monitoring" / "alerting.example.yml").read_text("utf-8"))
    settings.update(
        rules_dir=str(rules),
        heartbeat_url=receivers.http_url + "/heartbeat",
        telegram={"bot_token": "123:drill", "api_url": receivers.http_url},
        smtp={"smarthost": receivers.smtp_address, "from": "alerts@drill.test", "require_tls": False},
        # Scaled like the rules' `for`: scrape and evaluate every second, group for 3 s (time for StoreDown
        # to join its tills' TillDown before the first notification, as 30 s does in production).
        prometheus={"scrape_interval": "1s", "evaluation_interval": "1s"},
        alertmanager={"group_wait": "3s", "group_interval": "3s", "heartbeat_interval": "5s"},
    )
    settings["central"]["alertmanager"] = f"127.0.0.1:{alertmanager_port}"
    settings["receivers"]["P1"] = {"email": ["p1@drill.test"], "telegram_chat_id": P1_CHAT}
    settings["receivers"]["P2"] = {"email": ["p2@drill.test"], "telegram_chat_id": P2_CHAT}
    settings["receivers"]["P3"] = {"email": ["p3@drill.test"]}
    path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    return path


class DrillTill:
    """A till in its own namespace: API on the management link, metrics on the data link."""

    def __init__(self, workdir: Path, pos_id: str):
        self.pos_id = pos_id
        self.lab = NetLab(workdir / f"{pos_id}-lab").open()
        self.metrics_port = free_port()
        self.emulator = EmulatorProcess(workdir / f"{pos_id}-kkt").start()
        self.adapter = AdapterProcess(
            workdir / f"{pos_id}-adapter",
            self.emulator.port,
            pos_id=pos_id,
            capacity=CAPACITY,
            # Nothing answers inside the namespace: receipts stay in the buffer, as in a store cut off.
            ofd_url="http://127.0.0.1:9",
            odoo_url="http://127.0.0.1:9",
            odoo_token="drill",
            listen_host=self.lab.mgmt_ns_ip,
            prefix=("ip", "netns", "exec", self.lab.name),
            extra_env={**FAST_TIMERS, "KKT_ADAPTER_HTTP__METRICS_LISTEN": f"0.0.0.0:{self.metrics_port}"},
        ).start()

    @property
    def target(self) -> tuple[str, str, int]:
        return self.lab.ns_ip, self.pos_id, self.metrics_port

    def sell(self, count: int) -> None:
        for _ in range(count):
            answer = self.adapter.post_receipt(sale_body(pos_id=self.pos_id), key=str(uuid.uuid4()))
            assert answer.status_code == 200, answer.text

    def buffer_percent(self) -> float:
        return requests.get(self.adapter.url + "/v1/kkt/buffer/status", timeout=5).json()["percent_full"]

    def close(self) -> None:
        try:
            self.adapter.stop()
        finally:
            self.emulator.stop()
            self.lab.close()


def test_alerts_reach_the_right_receivers_through_a_real_monitoring_stack(tmp_path):
    figures: dict[str, float] = {}
    tills: list[DrillTill] = []
    servers: list[Prometheus | Alertmanager] = []
    with AlertReceivers() as receivers:
        try:
            started = time.monotonic()
            tills = [DrillTill(tmp_path, "store001-tillA"), DrillTill(tmp_path, "store001-tillB")]
            a, b = tills
            inventories = tmp_path / "inventories"
            always = {
                "timezone": "Etc/UTC",
                "hours": [{"days": ["sunday:saturday"], "open": "00:00", "close": "24:00"}],
            }
            write_inventory(inventories, "001", {"till-a": a.target, "till-b": b.target}, always)
            # Store 002's till is switched off for the night: nothing listens at its address.
            write_inventory(
                inventories, "002", {"till-c": ("127.0.0.1", "store002-tillC", free_port())}, closed_now()
            )
            alertmanager = Alertmanager(tmp_path / "alertmanager")
            settings = drill_settings(tmp_path / "alerting.yml", time_scaled_rules(tmp_path / "rules"),
                                      alertmanager.port, receivers)  # fmt: skip
            config = tmp_path / "config"
            build = load(BUILD_CONFIG, "build_config")
            assert (
                build.main(
                    ["--inventories", str(inventories), "--settings", str(settings), "--out", str(config)]
                )
                == 0
            )
            servers.append(alertmanager.start(config / "alertmanager.yml"))
            prometheus = Prometheus(tmp_path / "prometheus")
            servers.append(prometheus.start(config / "prometheus.yml"))
            figures["stack up (s)"] = time.monotonic() - started

            def scraped() -> bool:
                up = {r["metric"]["pos_id"]: r["value"][1] for r in prometheus.query('up{job="kkt-adapter"}')}
                return up == {"store001-tillA": "1", "store001-tillB": "1", "store002-tillC": "0"}

            wait_for(scraped, "Prometheus scraping both tills (and store 002's till down)")

            # 1. Every dashboard panel's query returns data from the real adapters.
            a.sell(2)
            b.sell(2)  # prints: the print-time histogram has samples
            queries = load(ROOT / "monitoring" / "dashboards" / "queries.py", "dashboard_queries")
            panels = queries.panel_queries(ROOT / "monitoring" / "dashboards" / "fleet.json")
            assert len(panels) >= 6
            time.sleep(3)  # a few scrapes for rate() windows
            empty = [title for title, expr in panels if not prometheus.query(expr)]
            assert not empty, f"dashboard panels without data: {empty}"
            figures["dashboard queries"] = len(panels)

            # 2. Till A's buffer over 80 % → P2 to the P2 chat and mailbox.
            a.sell(CAPACITY * 8 // 10 - 2)
            assert a.buffer_percent() >= 80
            crossed = time.monotonic()
            wait_for(
                lambda: receivers.received(f"telegram:{P2_CHAT}", "OfflineBufferWarning", a.pos_id), "P2 chat"
            )
            figures["OfflineBufferWarning → P2 chat (s)"] = time.monotonic() - crossed
            wait_for(lambda: receivers.received("mail:p2@drill.test", "[P2] OfflineBufferWarning"), "P2 mail")
            assert not receivers.received(f"telegram:{P1_CHAT}", "OfflineBufferWarning")

            # 3. At 100 % the P1 takes the P1 route; the warning is inhibited.
            a.sell(CAPACITY - CAPACITY * 8 // 10)
            assert a.buffer_percent() >= 100
            crossed = time.monotonic()
            wait_for(
                lambda: receivers.received(f"telegram:{P1_CHAT}", "OfflineBufferFull", a.pos_id), "P1 chat"
            )
            figures["OfflineBufferFull → P1 chat (s)"] = time.monotonic() - crossed
            wait_for(lambda: receivers.received("mail:p1@drill.test", "[P1] OfflineBufferFull"), "P1 mail")
            warning = wait_for(
                lambda: [
                    x for x in alertmanager.alerts("OfflineBufferWarning") if x["status"]["inhibitedBy"]
                ],
                "the warning inhibited by the full buffer",
            )
            assert warning[0]["labels"]["pos_id"] == a.pos_id

            # 4. Till B disappears (link down) → TillDown P2 during opening hours.
            b.lab.link_down()
            crossed = time.monotonic()
            wait_for(lambda: receivers.received(f"telegram:{P2_CHAT}", "TillDown", b.pos_id), "TillDown of B")
            figures["TillDown → P2 chat (s)"] = time.monotonic() - crossed

            # 5. Till A disappears too → one StoreDown (P1) for store 001; its tills' TillDown inhibited.
            a.lab.link_down()
            crossed = time.monotonic()
            wait_for(
                lambda: receivers.received(f"telegram:{P1_CHAT}", "StoreDown", "магазин 001"), "StoreDown 001"
            )
            figures["StoreDown → P1 chat (s)"] = time.monotonic() - crossed
            inhibited = wait_for(
                lambda: {x["labels"]["pos_id"] for x in alertmanager.alerts("TillDown", store="001")
                         if x["status"]["inhibitedBy"]} == {a.pos_id, b.pos_id},
                "both TillDowns of store 001 inhibited by StoreDown",
            )  # fmt: skip
            assert inhibited
            time.sleep(4)  # past a group interval: the inhibited TillDown of A must stay unsent
            assert not receivers.received("telegram:", "TillDown", a.pos_id)

            # 6. Store 002 is closed: its alerts fire in Prometheus but reach nobody.
            assert prometheus.firing("TillDown", store="002") and prometheus.firing("StoreDown", store="002")
            assert not receivers.received("", "store002-tillC")
            assert not receivers.received("", "магазин 002")

            # 7. The dead man's switch reaches the heartbeat receiver, and only it.
            wait_for(lambda: receivers.received("heartbeat", "Watchdog"), "Watchdog heartbeat")
            assert not receivers.received("telegram:", "Watchdog") and not receivers.received(
                "mail:", "Watchdog"
            )
        finally:
            for server in servers:
                server.stop()
            for till in tills:
                till.close()
    print("\nmonitoring drill (rules' `for` / 60; group_wait 3 s):")
    for name, value in figures.items():
        print(f"  {name:40s} {value:.1f}" if isinstance(value, float) else f"  {name:40s} {value}")
    counts: dict[str, int] = {}
    for message in receivers.messages:
        counts[message.channel] = counts.get(message.channel, 0) + 1
    print("  messages per channel:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
