"""Slow clients against the till's real front: nginx (the till_proxy role's own configuration) in front of
gunicorn's unix socket, the adapter with its systemd watchdog, the KKT emulator on a pty.

50 connections send a receipt request's headers one line a second (bounded to 12 s, loopback only). Meanwhile
a cashier's sale must be answered in under 1 s, ``/v1/health/live`` too, and the watchdog pings must keep
coming; nginx must drop every slow connection at its header timeout. (The same flood straight at gunicorn,
as the till ran before kkt-proxy, holds all 8 threads: tests/load/test_slow_clients_bench.py measures both.)
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import BIN, AdapterProcess, free_port
from tests.kit.notify import NotifySocket
from tests.kit.proxy import NGINX, KktProxy, role_defaults
from tests.kit.slow_clients import SlowHeaderFlood

ODOO = "https://erp.example.ru"  # the page the POS runs in ([http] cors_origins)
WATCHDOG_USEC = 3_000_000  # pings every 1 s; systemd would kill after 3 s of silence
FLOOD = 50
#: The role's header timeout, as the till runs it.
HEADER_TIMEOUT = float(role_defaults()["till_proxy_client_header_timeout"].rstrip("s"))


@pytest.fixture
def till(tmp_path, kkt_emulator):
    if not os.path.exists(NGINX):
        pytest.skip("nginx missing (tests/setup/install-deps.sh installs it)")
    notify = NotifySocket(tmp_path / "notify.sock")
    port = free_port()
    api_socket = tmp_path / "adapter" / "api.sock"
    proxy = KktProxy(tmp_path / "proxy", port, api_socket)
    adapter = AdapterProcess(
        tmp_path / "adapter",
        kkt_emulator.port,
        pos_id=POS_ID,
        http_port=port,  # the address the POS calls: nginx's
        extra_env={
            "KKT_ADAPTER_HTTP__SOCKET": str(api_socket),
            "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
            "WATCHDOG_USEC": str(WATCHDOG_USEC),
            "KKT_ADAPTER_HTTP__CORS_ORIGINS": json.dumps([ODOO]),
        },
    )
    try:  # whatever fails to start, nothing outlives the test
        proxy.start()
        adapter.start()
        yield adapter, proxy, notify
    finally:
        adapter.stop()
        proxy.stop()
        notify.close()


def timed_sale(url: str) -> tuple[float, requests.Response]:
    started = time.monotonic()
    resp = requests.post(
        url + "/v1/kkt/receipt", json=sale_body(), headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30
    )
    return time.monotonic() - started, resp


def test_fifty_slow_clients_leave_sales_and_the_watchdog_alone(till):
    _, proxy, notify = till
    timed_sale(proxy.url)  # the shift opens on the first sale: not part of the measurement
    flood_started = time.monotonic()
    with SlowHeaderFlood("127.0.0.1", proxy.port, connections=FLOOD, duration=HEADER_TIMEOUT + 7) as flood:
        assert flood.opened == FLOOD
        time.sleep(1.5)  # every slow client is connected and dripping
        sales = []
        for _ in range(5):
            seconds, resp = timed_sale(proxy.url)
            assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text
            sales.append(seconds)
            time.sleep(0.3)
        started = time.monotonic()
        live = requests.get(proxy.url + "/v1/health/live", timeout=10)
        live_seconds = time.monotonic() - started
        flood.wait()
    flood_ended = time.monotonic()
    assert max(sales) < 1.0, f"sale latencies under the flood: {sales}"
    assert live.status_code == 200 and live_seconds < 1.0, live_seconds
    gap = notify.max_ping_gap(flood_started, flood_ended)
    assert gap < WATCHDOG_USEC / 1e6 / 2, f"the watchdog went {gap:.1f} s without a ping"
    # nginx, not the client, ended every slow connection, at its header timeout.
    assert len(flood.dropped_after) == FLOOD
    assert all(HEADER_TIMEOUT - 0.5 <= t <= HEADER_TIMEOUT + 2.5 for t in flood.dropped_after), sorted(
        flood.dropped_after
    )
    print(
        f"\n{FLOOD} slow-header clients through kkt-proxy: sale latency max {max(sales) * 1000:.0f} ms, "
        f"live {live_seconds * 1000:.0f} ms, longest watchdog gap {gap:.2f} s, dropped after "
        f"{min(flood.dropped_after):.1f}-{max(flood.dropped_after):.1f} s"
    )


def test_the_proxy_answers_in_problem_json_when_the_adapter_is_down(till):
    adapter, proxy, _ = till
    adapter.stop()
    resp = requests.post(proxy.url + "/v1/kkt/receipt", json=sale_body(), timeout=10)
    assert resp.status_code == 503
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json()["code"] == "adapter_unavailable"
    assert resp.headers["Retry-After"] == "5"
    # kktctl reads that answer as "the adapter is unreachable" (exit 3), not as an adapter error: a
    # restore must not refuse to run because nginx still answers for a stopped adapter.
    env = {**os.environ, "KKT_ADAPTER_CONFIG": str(adapter.workdir / "absent.toml")}
    done = subprocess.run(
        [str(BIN / "kktctl"), "--url", proxy.url, "fn-status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3, done.stderr
    assert "adapter_unavailable" in done.stderr and "is kkt-adapter.service running?" in done.stderr


def test_the_proxy_refuses_an_oversized_body_in_problem_json(till):
    _, proxy, _ = till
    resp = requests.post(
        proxy.url + "/v1/kkt/receipt",
        data=b"{" + b" " * 70_000 + b"}",
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert resp.status_code == 413
    assert resp.json()["code"] == "body_too_large"


def test_answers_pass_through_the_proxy_unchanged(till):
    """Problem documents and the replay header of the adapter reach the POS as the adapter sent them."""
    _, proxy, _ = till
    key = str(uuid.uuid4())
    url, headers = proxy.url + "/v1/kkt/receipt", {"Idempotency-Key": key}
    first = requests.post(url, json=sale_body(), headers=headers, timeout=30)
    again = requests.post(url, json=sale_body(), headers=headers, timeout=30)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["fiscal_doc"] == first.json()["fiscal_doc"]
    bad = requests.post(url, json=sale_body(pos_id="other"), timeout=30)
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key_missing"


def test_cors_preflights_and_headers_pass_through_the_proxy_unchanged(till):
    """A browser page of central Odoo calls the till through kkt-proxy: nginx hands OPTIONS to the adapter
    and returns its CORS answers, refusals included, as they are."""
    _, proxy, _ = till
    url = proxy.url + "/v1/kkt/receipt"
    asking = {
        "Origin": ODOO,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,idempotency-key",
        "Access-Control-Request-Private-Network": "true",
    }
    pre = requests.options(url, headers=asking, timeout=10)
    assert pre.status_code == 204
    assert {k: pre.headers[k] for k in pre.headers if k.startswith("Access-Control-") or k == "Vary"} == {
        "Access-Control-Allow-Origin": ODOO,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Private-Network": "true",
        "Vary": "Origin",
    }
    denied = requests.options(url, headers={**asking, "Origin": "https://evil.example"}, timeout=10)
    assert denied.status_code == 403 and denied.json()["code"] == "cors_origin_denied"
    sale = requests.post(
        url, json=sale_body(), headers={"Origin": ODOO, "Idempotency-Key": str(uuid.uuid4())}, timeout=30
    )
    bad = requests.post(url, json=sale_body(), headers={"Origin": ODOO}, timeout=30)  # no key: a problem
    for resp in (sale, bad):
        assert resp.headers["Access-Control-Allow-Origin"] == ODOO
        assert resp.headers["Access-Control-Expose-Headers"] == "Idempotent-Replayed"
        assert resp.headers["Vary"] == "Origin"
    assert sale.json()["status"] == "printed" and bad.json()["code"] == "idempotency_key_missing"
