"""The KKT adapter on the booted till (till_adapter): units, watchdog, sandbox, sockets, file owners and
modes — then an end-to-end sale from the "POS" (the host, through the firewall) to the emulated KKT on a
pseudo-terminal inside the till."""

from __future__ import annotations

import json
import uuid

import requests

HARDENING = {
    "Type": "notify",
    "NotifyAccess": "all",
    "WatchdogUSec": "30s",
    "Restart": "on-failure",
    "User": "kkt",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "DevicePolicy": "closed",
    "RestrictNamespaces": "yes",
    "MemoryDenyWriteExecute": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "MemoryMax": str(512 * 1024 * 1024),
    "Slice": "kkt-adapter.slice",
}


def test_units_are_enabled_and_running(host):
    adapter = host.service("kkt-adapter")
    assert adapter.is_enabled and adapter.is_running
    for timer in ("kkt-sync.timer", "kkt-backup.timer"):
        assert host.service(timer).is_enabled and host.service(timer).is_running, timer
    assert host.service("kkt-emulator").is_running  # the test's KKT


def test_the_adapter_venv_holds_no_test_kit(host):
    """The till's own install carries the product only: the emulator lives in the test's separate venv."""
    venv = "/opt/kkt-adapter/venv"
    assert not host.file(f"{venv}/bin/kkt-emulator").exists
    found = host.run(f"{venv}/bin/python -c 'import kkt_emulator'")
    assert found.rc != 0 and "ModuleNotFoundError" in found.stderr
    listed = host.run(f"{venv}/bin/pip list --disable-pip-version-check --format=freeze").stdout
    assert "kkt-adapter==" in listed and "kkt-emulator" not in listed
    assert host.run("test -x /opt/kkt-emulator/venv/bin/kkt-emulator").rc == 0


def _show(host, unit: str) -> dict[str, str]:
    """All properties (empty ones too); repeated keys (DeviceAllow=) joined with "; "."""
    props: dict[str, str] = {}
    for line in host.run(f"systemctl show --all --no-pager {unit}").stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = f"{props[key]}; {value}" if key in props else value
    return props


def test_watchdog_and_hardening_properties(host):
    props = _show(host, "kkt-adapter.service")
    for key, expected in HARDENING.items():
        assert props[key] == expected, f"{key}={props[key]!r}, expected {expected!r}"
    assert "/dev/kkt0 rw" in props["DeviceAllow"]
    # Start of gunicorn to READY=1 from the worker (buffer open, KKT probed): the cost of every restart.
    ready = int(props["ActiveEnterTimestampMonotonic"]) - int(props["ExecMainStartTimestampMonotonic"])
    print(f"\nadapter READY {ready / 1e6:.2f} s after its process started (systemd timestamps)")
    assert 0 < ready < 30_000_000
    assert props["StateDirectory"] == "kkt-adapter"
    # The adapter's worker is READY and tells systemd what it is doing.
    assert props["StatusText"], "no STATUS= from the worker"


def test_exposure_score_of_the_installed_unit(host):
    out = host.run("systemd-analyze security --no-pager kkt-adapter.service").stdout
    score = float(out.strip().splitlines()[-1].split("exposure level for kkt-adapter.service:")[1].split()[0])
    assert score <= 2.0, out[-400:]


def test_adapter_listens_only_on_its_configured_addresses(host):
    listening = {s for s in host.socket.get_listening_sockets() if s.endswith((":8765", ":9101"))}
    assert listening == {"tcp://10.0.2.100:8765", "tcp://10.0.2.100:9101"}


def test_owners_and_modes(host):
    expected = {
        "/etc/kkt-adapter/config.toml": ("root", "kkt", 0o640),
        "/etc/kkt-adapter/config.d": ("root", "kkt", 0o750),
        "/var/lib/kkt-adapter": ("kkt", "kkt", 0o750),
        "/var/lib/kkt-adapter/buffer.db": ("kkt", "kkt", 0o640),
        "/etc/nut/upsd.users": ("root", "nut", 0o640),
    }
    for path, (user, group, mode) in expected.items():
        f = host.file(path)
        assert (f.user, f.group, f.mode) == (user, group, mode), path
    kkt = host.user("kkt")
    assert kkt.shell == "/usr/sbin/nologin" and "dialout" in kkt.groups
    assert host.run("sudo -l -U kkt").stdout.count("may run") == 0  # no sudo for the service user


def test_end_to_end_sale_is_printed_by_the_kkt_and_journaled(host, till):
    key = str(uuid.uuid4())
    resp = till.sell(key=key)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "printed"
    again = till.sell(key=key)  # the POS retrying the same sale gets the same receipt, printed once
    assert again.status_code == 200 and again.json()["receipt_id"] == body["receipt_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    # kktctl on the till (the runbooks' way: as user kkt) sees it fiscalized.
    out = host.run("runuser -u kkt -- kktctl --json receipts list --limit 5")
    assert out.rc == 0, out.stderr
    listed = {r["receipt_id"]: r for r in json.loads(out.stdout)}
    assert listed[body["receipt_id"]]["fiscal_status"] == "printed"
    assert listed[body["receipt_id"]]["fd_number"] > 0
    # Bad input gets a problem document and journals nothing.
    count = len(till.receipts())
    bad = requests.post(
        till.api + "/v1/kkt/receipt",
        json={"pos_id": "till-01"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["code"] == "invalid_receipt"
    assert len(till.receipts()) == count
