#!/usr/bin/env python3
"""Prometheus and Alertmanager configuration generated from the stores' Ansible inventories.

The inventories (``ansible/inventories/<store>/``) already say which tills a store has, where their
metrics listener is and when the store is open; this script turns that into:

- ``prometheus.yml``: one ``kkt-adapter`` target per till (labels ``store``, ``pos_id``, ``till``;
  ``honor_labels`` so the adapter's own ``pos_id`` stays on its series), the central exporters (PostgreSQL,
  node_exporter with the pgBackRest textfile, the blackbox probe of Odoo through nginx) and the rules of
  ``monitoring/rules/``;
- ``alertmanager.yml``: receivers by severity (P1: e-mail + Telegram, P2: e-mail + Telegram, P3: e-mail;
  the owner's plan's SLA sets how often each repeats), the Watchdog to an external heartbeat receiver, one
  time interval per store from ``store_opening_hours`` that mutes TillDown / HeartbeatLost / StoreDown
  when the store is closed, and the inhibitions (StoreDown over its tills, OdooDown over heartbeats, a
  higher step of an alert over its lower ones).

Usage (central_monitoring role, or by hand; the settings file holds addresses and secrets, see
``monitoring/alerting.example.yml``)::

    monitoring/build_config.py --inventories ansible/inventories --settings alerting.yml --out DIR

Plain YAML is read — no Jinja is rendered — so the values used here must be literal in the inventory;
a templated one is refused with its file and key.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ROLE_DEFAULTS = ROOT / "ansible" / "roles" / "till_adapter" / "defaults" / "main.yml"
#: Alerts that are normal while a store is closed (tills are switched off at night).
STORE_HOURS_ALERTS = ("TillDown", "HeartbeatLost", "StoreDown")
SEVERITIES = ("P1", "P2", "P3")
#: Owner's plan §10.2: P1 reaction 15 min, P2 1 h, P3 24 h — a still-firing alert is re-sent at that pace.
REPEAT = {"P1": "15m", "P2": "1h", "P3": "24h"}
#: Alertmanager's week starts on Sunday: a range runs forward within it (monday:friday, sunday:saturday).
DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class ConfigError(Exception):
    """An inventory or the settings cannot be turned into a configuration; the message says where."""


@dataclass
class TillTarget:
    name: str
    pos_id: str
    address: str  # host:port of the metrics-only listener
    host: str = ""  # ansible_host: where the central server reaches the till
    ssh_port: int = 22  # ansible_port: the till's sshd (the central server pulls buffer backups over it)


@dataclass
class Store:
    store_id: str
    inventory: Path
    tills: list[TillTarget] = field(default_factory=list)
    hours: dict | None = None  # store_opening_hours, validated


def _load(path: Path) -> dict:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return data


def _literal(value, where: str):
    if isinstance(value, str) and "{{" in value:
        raise ConfigError(f"{where}: templated value {value!r}; monitoring needs it literal")
    return value


def _vars(folder: Path) -> dict:
    """Variables of a group_vars/host_vars folder (or file), vault files skipped (they are encrypted)."""
    merged: dict = {}
    files = sorted(folder.glob("*.yml")) if folder.is_dir() else [folder.with_suffix(".yml")]
    for path in files:
        if path.is_file() and not path.read_text(encoding="utf-8").startswith("$ANSIBLE_VAULT"):
            merged.update(_load(path))
    return merged


def _day_range(text) -> bool:
    if not isinstance(text, str):
        return False
    first, _, last = text.partition(":")
    return first in DAYS and (not last or (last in DAYS and DAYS.index(first) <= DAYS.index(last)))


def _check_hours(hours, where: str) -> dict:
    if not isinstance(hours, dict) or not isinstance(hours.get("hours"), list) or not hours["hours"]:
        raise ConfigError(f"{where}: store_opening_hours needs 'timezone' and a non-empty list 'hours'")
    if not isinstance(hours.get("timezone"), str) or "/" not in hours["timezone"]:
        raise ConfigError(f"{where}: store_opening_hours.timezone must be an IANA name like Europe/Moscow")
    for entry in hours["hours"]:
        days = entry.get("days") if isinstance(entry, dict) else None
        if not days or not all(_day_range(d) for d in days):
            raise ConfigError(
                f"{where}: opening hours days {days!r}: use monday…sunday or forward ranges within a week "
                "starting on Sunday (monday:friday, sunday:saturday)"
            )
        opens, closes = str(entry.get("open", "")), str(entry.get("close", ""))
        if not (CLOCK.match(opens) and CLOCK.match(closes)) or opens >= closes:
            raise ConfigError(f"{where}: opening hours {opens!r}–{closes!r}: HH:MM with open before close")
    return hours


def read_store(inventory: Path, default_port: int) -> Store:
    hosts = _load(inventory / "hosts.yml")
    common = _vars(inventory / "group_vars" / "all")
    till_vars = _vars(inventory / "group_vars" / "tills")
    where = f"{inventory}/group_vars/all"
    store_id = _literal(common.get("store_id"), f"{where}: store_id")
    if not store_id:
        raise ConfigError(f"{where}: store_id is missing")
    store = Store(str(store_id), inventory)
    if "store_opening_hours" in common:
        store.hours = _check_hours(common["store_opening_hours"], where)
    tills = ((hosts.get("all") or {}).get("children") or {}).get("tills") or {}
    for name, host in sorted((tills.get("hosts") or {}).items()):
        own = {**till_vars, **(host or {}), **_vars(inventory / "host_vars" / name)}
        where = f"{inventory}/host_vars/{name}"
        pos_id = _literal(own.get("till_adapter_pos_id"), f"{where}: till_adapter_pos_id")
        address = _literal(own.get("ansible_host", name), f"{inventory}/hosts.yml: {name}.ansible_host")
        port = _literal(
            own.get("till_adapter_metrics_port", default_port), f"{where}: till_adapter_metrics_port"
        )
        if not pos_id:
            raise ConfigError(f"{where}: till_adapter_pos_id is missing")
        ssh_port = _literal(own.get("ansible_port", 22), f"{inventory}/hosts.yml: {name}.ansible_port")
        store.tills.append(TillTarget(name, str(pos_id), f"{address}:{port}", str(address), int(ssh_port)))
    return store


def _has_tills(hosts_file: Path) -> bool:
    """A store inventory has a ``tills`` group; the central server's own inventory has none."""
    children = ((_load(hosts_file).get("all") or {}).get("children")) or {}
    return "tills" in children


def read_stores(inventories: Path) -> list[Store]:
    default_port = _load(ROLE_DEFAULTS)["till_adapter_metrics_port"]
    stores = [
        read_store(p.parent, default_port) for p in sorted(inventories.glob("*/hosts.yml")) if _has_tills(p)
    ]
    if not stores:
        raise ConfigError(f"{inventories}: no inventory (*/hosts.yml)")
    seen: dict[str, str] = {}
    for store in stores:
        for key in [f"store {store.store_id}"] + [f"pos_id {t.pos_id}" for t in store.tills]:
            if key in seen:
                raise ConfigError(f"{key} appears in {seen[key]} and {store.inventory}")
            seen[key] = str(store.inventory)
    return stores


# --- Prometheus -----------------------------------------------------------------------------------------


def prometheus_config(stores: list[Store], settings: dict) -> dict:
    central = settings["central"]
    timing = settings.get("prometheus", {})
    tills = [
        {"targets": [t.address], "labels": {"store": s.store_id, "pos_id": t.pos_id, "till": t.name}}
        for s in stores
        for t in s.tills
    ]
    return {
        "global": {
            # 15 s: a till's state changes within a receipt; the plan's 5-minute `for`s need a dozen points.
            "scrape_interval": timing.get("scrape_interval", "15s"),
            "evaluation_interval": timing.get("evaluation_interval", "15s"),
        },
        "rule_files": [str(Path(settings.get("rules_dir", "/etc/prometheus/rules")) / "*.rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [central["alertmanager"]]}]}]},
        "scrape_configs": [
            # honor_labels: the adapter's own pos_id label wins over the target's (same value); the target's
            # pos_id still names the till on `up` when it cannot be scraped.
            {"job_name": "kkt-adapter", "honor_labels": True, "static_configs": tills},
            {"job_name": "postgresql", "static_configs": [{"targets": [central["postgres_exporter"]]}]},
            {"job_name": "central-node", "static_configs": [{"targets": [central["node_exporter"]]}]},
            {
                "job_name": "odoo-https",
                "metrics_path": "/probe",
                "params": {"module": ["https_odoo"]},
                "static_configs": [{"targets": [central["odoo_url"].rstrip("/") + "/web/login"]}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": central["blackbox_exporter"]},
                ],
            },
        ],
    }


# --- Alertmanager ---------------------------------------------------------------------------------------


def _time_interval(store: Store) -> dict:
    return {
        "name": f"store-{store.store_id}-open",
        "time_intervals": [
            {
                "weekdays": entry["days"],
                "times": [{"start_time": entry["open"], "end_time": entry["close"]}],
                "location": store.hours["timezone"],
            }
            for entry in store.hours["hours"]
        ],
    }


def _message(runbooks: str) -> str:
    """Telegram text (Alertmanager template): what, where, and the runbook to open."""
    return (
        '{{ range .Alerts }}{{ if eq .Status "firing" }}🔴{{ else }}✅{{ end }} '
        "[{{ .Labels.severity }}] {{ .Labels.alertname }}"
        "{{ if .Labels.store }} · магазин {{ .Labels.store }}{{ end }}"
        "{{ if .Labels.pos_id }} · касса {{ .Labels.pos_id }}{{ end }}\n"
        "{{ .Annotations.description }}\n"
        f"Runbook: {runbooks}" + '{{ reReplaceAll "^runbooks/" "" .Annotations.runbook_url }}\n{{ end }}'
    )


def _receiver(severity: str, settings: dict) -> dict:
    channel = settings["receivers"][severity]
    receiver: dict = {
        "name": severity.lower(),
        "email_configs": [
            {
                "to": ", ".join(channel["email"]),
                "send_resolved": True,
                "headers": {"Subject": _subject(severity)},
            }
        ],
    }
    if channel.get("telegram_chat_id") is not None:
        telegram = settings["telegram"]
        receiver["telegram_configs"] = [
            {
                "api_url": telegram.get("api_url", "https://api.telegram.org"),
                "bot_token": telegram["bot_token"],
                "chat_id": int(channel["telegram_chat_id"]),
                "parse_mode": "",
                "send_resolved": True,
                "message": _message(settings["runbook_base_url"]),
            }
        ]
    return receiver


def _subject(severity: str) -> str:
    store = "{{ if .CommonLabels.store }} · магазин {{ .CommonLabels.store }}{{ end }}"
    return f"[{severity}] " + "{{ .CommonLabels.alertname }}" + store


def alertmanager_config(stores: list[Store], settings: dict) -> dict:
    timing = settings.get("alertmanager", {})
    smtp = settings["smtp"]
    severity_routes = []
    for store in stores:
        if store.hours is None:
            continue  # a store without opening hours is watched around the clock
        for severity in SEVERITIES:
            severity_routes.append(
                {
                    "receiver": severity.lower(),
                    "matchers": [
                        f'alertname=~"{"|".join(STORE_HOURS_ALERTS)}"',
                        f'store="{store.store_id}"',
                        f'severity="{severity}"',
                    ],
                    "active_time_intervals": [f"store-{store.store_id}-open"],
                    "repeat_interval": REPEAT[severity],
                }
            )
    for severity in SEVERITIES:
        severity_routes.append(
            {
                "receiver": severity.lower(),
                "matchers": [f'severity="{severity}"'],
                "repeat_interval": REPEAT[severity],
            }
        )
    return {
        "global": {
            "smtp_smarthost": smtp["smarthost"],
            "smtp_from": smtp["from"],
            "smtp_auth_username": smtp.get("username", ""),
            "smtp_auth_password": smtp.get("password", ""),
            "smtp_require_tls": bool(smtp.get("require_tls", True)),
        },
        "route": {
            # Anything without a known severity still reaches someone: the P3 mailbox.
            "receiver": "p3",
            # One message per alert and store (or per till for till alerts): a store's storm is one thread.
            "group_by": ["alertname", "store", "pos_id"],
            "group_wait": timing.get("group_wait", "30s"),
            "group_interval": timing.get("group_interval", "5m"),
            "repeat_interval": REPEAT["P3"],
            "routes": [
                {
                    # Dead man's switch: every minute to the external heartbeat receiver, nowhere else.
                    "receiver": "heartbeat",
                    "matchers": ['alertname="Watchdog"'],
                    "group_wait": "0s",
                    "group_interval": timing.get("heartbeat_interval", "1m"),
                    "repeat_interval": timing.get("heartbeat_interval", "1m"),
                },
                *severity_routes,
            ],
        },
        "receivers": [
            *(_receiver(s, settings) for s in SEVERITIES),
            {
                "name": "heartbeat",
                "webhook_configs": [{"url": settings["heartbeat_url"], "send_resolved": False}],
            },
        ],
        "time_intervals": [_time_interval(s) for s in stores if s.hours is not None],
        "inhibit_rules": [
            # A whole store down: its per-till alerts add nothing.
            {
                "source_matchers": ['alertname="StoreDown"'],
                "target_matchers": ['alertname=~"TillDown|HeartbeatLost"'],
                "equal": ["store"],
            },
            # Odoo down centrally: every till's heartbeat fails because of it.
            {"source_matchers": ['alertname="OdooDown"'], "target_matchers": ['alertname="HeartbeatLost"']},
            # PostgreSQL down: Odoo is down because of it.
            {"source_matchers": ['alertname="PostgreSQLDown"'], "target_matchers": ['alertname="OdooDown"']},
            # A full buffer is the warning's next step.
            {
                "source_matchers": ['alertname="OfflineBufferFull"'],
                "target_matchers": ['alertname="OfflineBufferWarning"'],
                "equal": ["pos_id"],
            },
            # Steps of one alert (FNUnconfirmedAging, FNExpirySoon, BackupMissing): the higher one speaks.
            {
                "source_matchers": ['severity="P1"'],
                "target_matchers": ['severity=~"P2|P3"'],
                "equal": ["alertname", "pos_id", "stanza"],
            },
            {
                "source_matchers": ['severity="P2"'],
                "target_matchers": ['severity="P3"'],
                "equal": ["alertname", "pos_id", "stanza"],
            },
        ],
    }


def _dump(data: dict) -> str:
    header = "# Generated by monitoring/build_config.py from the Ansible inventories — do not edit.\n"
    return header + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=10**6
    )  # no folded templates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prometheus and Alertmanager configs from the inventories")
    parser.add_argument("--inventories", type=Path, default=ROOT / "ansible" / "inventories")
    parser.add_argument("--settings", type=Path, help="alerting settings (alerting.example.yml)")
    parser.add_argument("--out", type=Path, help="folder for prometheus.yml and alertmanager.yml")
    parser.add_argument(
        "--list-tills",
        action="store_true",
        help="print the tills as JSON (store, name, pos_id, host, ssh_port, metrics) and exit",
    )
    args = parser.parse_args(argv)
    if args.list_tills:
        return _list_tills(args.inventories)
    if args.settings is None or args.out is None:
        parser.error("--settings and --out are required (unless --list-tills)")
    try:
        stores = read_stores(args.inventories)
        settings = _load(args.settings)
        if not settings:
            raise ConfigError(f"{args.settings}: missing or empty")
        prometheus, alertmanager = prometheus_config(stores, settings), alertmanager_config(stores, settings)
    except (ConfigError, KeyError, yaml.YAMLError) as exc:
        what = f"missing setting {exc}" if isinstance(exc, KeyError) else str(exc)
        print(f"build_config: {what}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "prometheus.yml").write_text(_dump(prometheus), encoding="utf-8")
    (args.out / "alertmanager.yml").write_text(_dump(alertmanager), encoding="utf-8")
    tills = sum(len(s.tills) for s in stores)
    print(f"{len(stores)} store(s), {tills} till(s) → {args.out}/prometheus.yml, {args.out}/alertmanager.yml")
    return 0


def _list_tills(inventories: Path) -> int:
    """The tills of every store inventory, for the central roles (till backups) — one reader of the
    inventories for monitoring and backups alike."""
    try:
        stores = read_stores(inventories)
    except ConfigError as exc:
        print(f"build_config: {exc}", file=sys.stderr)
        return 2
    tills = [
        {
            "store": s.store_id,
            "name": t.name,
            "pos_id": t.pos_id,
            "host": t.host,
            "ssh_port": t.ssh_port,
            "metrics": t.address,
        }
        for s in stores
        for t in s.tills
    ]
    print(json.dumps(tills, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
