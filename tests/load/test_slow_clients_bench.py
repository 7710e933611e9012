"""Benchmark: a cashier's sale under a flood of 50 slow-header clients, with and without kkt-proxy.

Three measurements in one run, each the median of the sales made while the flood is on (loopback only,
the flood bounded to ``FLOOD_SECONDS``):
- anchor: sales through kkt-proxy (nginx from the till_proxy role) with no flood;
- kkt-proxy: the same under the flood (target: every sale under 1 s);
- gunicorn alone: the flood straight at gunicorn's TCP listener, as the till ran before kkt-proxy.
Printed with the ratio to the anchor. The adapter, the emulator and nginx are real processes.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import AdapterProcess, EmulatorProcess, free_port
from tests.kit.proxy import NGINX, KktProxy
from tests.kit.slow_clients import SlowHeaderFlood

FLOOD = 50
FLOOD_SECONDS = 8.0
SALES = 5
TARGET_SECONDS = 1.0

pytestmark = pytest.mark.slow


def sale_seconds(url: str) -> float:
    started = time.monotonic()
    resp = requests.post(
        url + "/v1/kkt/receipt", json=sale_body(), headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    return time.monotonic() - started


def sales_under_flood(url: str, port: int, flood: bool) -> list[float]:
    if not flood:
        return [sale_seconds(url) for _ in range(SALES)]
    with SlowHeaderFlood("127.0.0.1", port, connections=FLOOD, duration=FLOOD_SECONDS) as attack:
        time.sleep(1.0)  # every slow client connected and dripping
        seconds = [sale_seconds(url) for _ in range(SALES)]
        attack.wait()
    return seconds


@pytest.fixture
def kkt_emulator(tmp_path):
    emulator = EmulatorProcess(tmp_path / "kkt").start()
    yield emulator
    emulator.stop()


def test_sale_latency_under_slow_clients(tmp_path, kkt_emulator):
    if not os.path.exists(NGINX):
        pytest.skip("nginx missing (tests/setup/install-deps.sh installs it)")
    port = free_port()
    api_socket = tmp_path / "proxied" / "api.sock"
    proxy = KktProxy(tmp_path / "proxy", port, api_socket)
    proxied = AdapterProcess(
        tmp_path / "proxied", kkt_emulator.port, pos_id=POS_ID, http_port=port,
        extra_env={"KKT_ADAPTER_HTTP__SOCKET": str(api_socket)},
    )  # fmt: skip
    try:  # whatever fails to start, nothing outlives the benchmark
        proxy.start()
        proxied.start()
        sale_seconds(proxied.url)  # the shift opens on the first sale
        anchor = sales_under_flood(proxied.url, port, flood=False)
        behind_proxy = sales_under_flood(proxied.url, port, flood=True)
    finally:
        proxied.stop()
        proxy.stop()
    direct = AdapterProcess(tmp_path / "direct", kkt_emulator.port, pos_id=POS_ID)
    try:
        direct.start()
        sale_seconds(direct.url)
        alone = sales_under_flood(direct.url, direct.http_port, flood=True)
    finally:
        direct.stop()

    base = statistics.median(anchor)
    rows = [
        ("anchor: kkt-proxy, no flood", anchor),
        (f"kkt-proxy, {FLOOD} slow clients", behind_proxy),
        (f"gunicorn alone, {FLOOD} slow clients", alone),
    ]
    print(f"\nsale latency, {SALES} sales each (median / max, ratio of medians to the anchor):")
    for name, values in rows:
        median = statistics.median(values)
        print(f"  {name:<34} {median * 1000:8.0f} ms / {max(values) * 1000:8.0f} ms   x{median / base:.1f}")
    assert max(behind_proxy) < TARGET_SECONDS, behind_proxy
