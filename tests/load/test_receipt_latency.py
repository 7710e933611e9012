"""Benchmark: receipt latency over HTTP, emulator at 115200 baud (target: adapter overhead P95 <= 50 ms).

Total latency is what the POS sees for ``POST /v1/kkt/receipt``. The adapter's overhead is total minus the
emulator's own service time for that request (simulated line time at 115200 baud + its command handling),
read from the emulator's ``busy_seconds`` counter before and after each request. No OFD is configured,
so the adapter's relay leaves the KKT alone and every emulator command in a window is the request's own
(phase-2 delivery is measured by tests/load/test_drain_benchmark.py).
``RECEIPT_BENCH_COUNT`` (default 1000) sets the number of measured receipts.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

import pytest
import requests

from tests.kit.devstack import AdapterProcess, EmulatorProcess

COUNT = int(os.environ.get("RECEIPT_BENCH_COUNT", "1000"))
WARMUP = 20
TARGET_OVERHEAD_P95_MS = 50.0
POS_ID = "bench-till"
BODY = {
    "pos_id": POS_ID,
    "type": "sale",
    "items": [
        {"name": "Оправа Ray-Ban RB5154", "price": "8500.00", "quantity": 1, "vat": 6},
        {"name": "Линза очковая 1.6 AR", "price": "3200.00", "quantity": 2, "vat": 6},
    ],
    "payments": [{"method": "card", "amount": "14900.00"}],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@pytest.mark.slow
def test_receipt_latency_overhead(tmp_path):
    emulator = EmulatorProcess(tmp_path / "kkt", baud=115200).start()
    # No background probes during the run: every emulator command in a window belongs to that request.
    adapter = AdapterProcess(
        tmp_path / "adapter",
        emulator.port,
        pos_id=POS_ID,
        extra_env={"KKT_ADAPTER_KKT__RETRY_INTERVAL_SECONDS": "3600"},
    ).start()
    session = requests.Session()
    totals, services = [], []
    try:
        for i in range(WARMUP + COUNT):
            busy_before = emulator.control.stats()["busy_seconds"]
            started = time.perf_counter()
            resp = session.post(
                adapter.url + "/v1/kkt/receipt", json=BODY, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            total = time.perf_counter() - started
            busy = emulator.control.stats()["busy_seconds"] - busy_before
            assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text
            if i >= WARMUP:
                totals.append(total * 1000)
                services.append(busy * 1000)
    finally:
        adapter.stop()
        emulator.stop()
    overhead = [t - s for t, s in zip(totals, services, strict=True)]
    print(f"\nRECEIPT LATENCY: {COUNT} receipts over HTTP, emulator at 115200 baud (ms)")
    print(f"  {'':<22}{'P50':>8}{'P95':>8}{'P99':>8}")
    for name, values in (("total", totals), ("emulator service", services), ("adapter overhead", overhead)):
        print(f"  {name:<22}" + "".join(f"{percentile(values, q):8.1f}" for q in (50, 95, 99)))
    share = statistics.median(o / t for o, t in zip(overhead, totals, strict=True))
    print(f"  overhead share of total (median ratio): {share:.2f}")
    assert percentile(overhead, 95) <= TARGET_OVERHEAD_P95_MS
