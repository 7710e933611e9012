"""kkt-proxy on the booted till (till_proxy): nginx from Debian on the adapter's API address, gunicorn behind
it on a unix socket, Debian's own nginx.service masked — and a flood of slow clients from the "POS" side
(the host, through the firewall) that leaves a sale fast and is dropped by nginx at its header timeout."""

from __future__ import annotations

import sys
import time
import uuid
from urllib.parse import urlsplit

import requests
from conftest import REPO

sys.path.insert(0, str(REPO))  # the test kit, shared with tests/integration
from tests.kit.slow_clients import SlowHeaderFlood

HARDENING = {
    "Type": "exec",
    "Restart": "on-failure",
    "User": "kkt-proxy",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "MemoryDenyWriteExecute": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "Slice": "kkt-adapter.slice",
}


def _show(host, unit: str) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in host.run(f"systemctl show --all --no-pager {unit}").stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def test_kkt_proxy_runs_and_debians_nginx_is_masked(host):
    proxy = host.service("kkt-proxy")
    assert proxy.is_enabled and proxy.is_running
    assert host.run("systemctl is-enabled nginx.service").stdout.strip() == "masked"
    assert not host.socket("tcp://0.0.0.0:80").is_listening
    props = _show(host, "kkt-proxy.service")
    for key, expected in HARDENING.items():
        assert props[key] == expected, f"{key}={props[key]!r}, expected {expected!r}"
    out = host.run("systemd-analyze security --no-pager kkt-proxy.service").stdout
    score = float(out.strip().splitlines()[-1].split("exposure level for kkt-proxy.service:")[1].split()[0])
    print(f"\nkkt-proxy.service exposure {score}")
    assert score <= 2.5, out[-400:]


def test_nginx_owns_the_api_port_and_gunicorn_only_its_socket(host):
    owners = host.run("ss -Hltnp 'sport = :8765'").stdout
    assert "nginx" in owners and "gunicorn" not in owners and "kkt-adapter" not in owners, owners
    api_socket = host.file("/run/kkt-adapter/api.sock")
    assert api_socket.is_socket and api_socket.user == "kkt"
    # Group kkt (for the socket) would let it read the buffer and config.toml: the unit hides both.
    pid = host.run("systemctl show -p MainPID --value kkt-proxy").stdout.strip()
    inside = f"nsenter -t {pid} -m --"  # kkt-proxy's mount namespace, where InaccessiblePaths= apply
    assert host.run("test -s /var/lib/kkt-adapter/buffer.db").rc == 0  # there on the host…
    hidden = host.run(f"{inside} test -e /var/lib/kkt-adapter/buffer.db")
    assert hidden.rc != 0, (pid, hidden.stdout, hidden.stderr)  # …not for the proxy
    assert host.run("test -s /etc/kkt-adapter/config.toml").rc == 0
    assert host.run(f"{inside} cat /etc/kkt-adapter/config.toml").stdout == ""  # an empty, mode-000 stand-in


def test_a_flood_of_slow_clients_leaves_a_sale_fast(till):
    api = urlsplit(till.api)
    till.sell()  # warm: the shift is open
    with SlowHeaderFlood(api.hostname, api.port, connections=30, duration=12) as flood:
        time.sleep(1.5)
        started = time.monotonic()
        resp = till.sell()
        seconds = time.monotonic() - started
        flood.wait()
    assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text
    print(f"\nsale through kkt-proxy under 30 slow clients: {seconds * 1000:.0f} ms")
    assert seconds < 1.0
    assert flood.opened == 30 and len(flood.dropped_after) == 30, (flood.opened, sorted(flood.dropped_after))
    assert all(4.0 <= t <= 8.0 for t in flood.dropped_after), sorted(flood.dropped_after)


def test_the_proxy_answers_problem_json_while_the_adapter_restarts(host, till):
    stopped = host.run("systemctl stop kkt-adapter")
    assert stopped.rc == 0, stopped.stderr
    try:
        resp = requests.post(
            till.api + "/v1/kkt/receipt", json={}, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=10
        )
        assert resp.status_code == 503 and resp.json()["code"] == "adapter_unavailable"
    finally:
        assert host.run("systemctl start kkt-adapter").rc == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(till.api + "/v1/health/live", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    assert till.sell().status_code == 200
