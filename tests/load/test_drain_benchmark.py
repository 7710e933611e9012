"""Benchmark: drain 1,000 buffered receipts to the OFD stand-in over a link with 20 ms round-trip time.

Setup: a till (KKT emulator with an instant line, the adapter under gunicorn) prints ``DRAIN_BENCH_COUNT``
receipts (default 1000) while the OFD and Odoo stand-ins, in a NetLab namespace, answer 503; the adapter
captures every FN document into its buffer meanwhile (one shift-open report + the receipts). Then both
stand-ins come back with 20 ms of latency (their ``delay_ms``; netem 10 ms each way where the kernel has
it), a sync is requested through the admin API and the background loop does the rest. Measured from that
moment: until the OFD holds every document, until Odoo holds every receipt, until every OFD
acknowledgment is back in the FN. Target: the OFD drain within 30 s. The breaker's reset timeout (1 s
here) is part of the measured time, as it would be on a till.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from tests.kit.fleet import Till, lab_with_standins, needs_lab, read_db, wait_all
from tests.kit.netlab import NetLab

COUNT = int(os.environ.get("DRAIN_BENCH_COUNT", "1000"))
RTT_MS = 20
TARGET_OFD_SECONDS = 30.0
POS_ID = "bench-till"
CLIENTS = 2  # two POS connections keep the KKT busy while the other request is in HTTP and the buffer
BENCH_TIMERS = {
    "KKT_ADAPTER_SYNC__BREAKER_RESET_SECONDS": "1",
    "KKT_ADAPTER_SYNC__BACKOFF_MAX_SECONDS": "1",
    "KKT_ADAPTER_SYNC__RELAY_INTERVAL_SECONDS": "0.2",
}


def print_receipts(till: Till, count: int) -> None:
    errors: list[str] = []
    keys = [str(uuid.uuid4()) for _ in range(count)]
    for key in keys:
        till.sold[key] = till.body(key)

    def client(share: list[str]) -> None:
        for key in share:
            _, resp = till.sell(key)
            if resp.status_code != 200 or resp.json().get("status") != "printed":
                errors.append(f"{key}: HTTP {resp.status_code} {resp.text[:200]}")

    threads = [threading.Thread(target=client, args=(keys[n::CLIENTS],)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "printing did not finish within 600 s"
    assert not errors, errors[:5]


def captured(till: Till, documents: int) -> tuple[bool, str]:
    """Probe: the adapter has relayed every FN document into its buffer (one OFD delivery row each)."""
    rows = read_db(till.adapter.db_path, "SELECT count(*) FROM deliveries WHERE target = 'ofd'")
    return rows[0][0] == documents, f"{rows[0][0]} of {documents} captured"


def acks_applied(till: Till) -> tuple[bool, str]:
    """Probe: every OFD acknowledgment has been handed back to the FN (the adapter's own record)."""
    rows = read_db(
        till.adapter.db_path,
        "SELECT count(*) FROM deliveries WHERE target = 'ofd' AND ack_applied_at IS NULL",
    )
    return rows[0][0] == 0, f"{rows[0][0]} acks not applied yet"


@pytest.mark.slow
@needs_lab
def test_drain_of_buffered_receipts(tmp_path):
    documents = COUNT + 1  # the shift-open report comes first
    with lab_with_standins(tmp_path / "lab", (POS_ID,)) as (lab, ofd, odoo):
        ofd.control.mode("down")
        odoo.control.mode("down")
        till = Till.start(tmp_path, POS_ID, ofd_url=ofd.url, odoo_url=odoo.url, env=BENCH_TIMERS, baud=0)
        try:
            started = time.monotonic()
            print_receipts(till, COUNT)
            printing = time.monotonic() - started
            wait_all({"every FN document in the buffer": lambda: captured(till, documents)}, timeout=120)
            capture = time.monotonic() - started
            assert (
                ofd.control.stats()["unique_documents"] == 0 and odoo.control.stats()["unique_receipts"] == 0
            )

            if NetLab.netem_available():
                lab.set_netem(RTT_MS // 2)
                delay = 0
            else:
                delay = RTT_MS
            ofd.control.mode("up", delay_ms=delay)
            odoo.control.mode("up", delay_ms=delay)
            before = {"OFD": ofd.control.stats(), "Odoo": odoo.control.stats()}
            t0 = time.monotonic()
            kick = till.session.post(till.adapter.url + "/v1/kkt/buffer/sync", headers=till.adapter.admin())
            assert kick.status_code in (202, 409), kick.text  # 409: the background loop is at it already
            drained = wait_all(
                {
                    "OFD": lambda: (
                        ofd.control.stats()["unique_documents"] == documents,
                        ofd.control.stats(),
                    ),
                    "Odoo": lambda: (odoo.control.stats()["unique_receipts"] == COUNT, odoo.control.stats()),
                    "acks back in the FN": lambda: acks_applied(till),
                },
                timeout=300,
                interval=0.05,
            )
            wall = time.monotonic() - t0
            fn_queue = till.fn()["ofd_queue_size"]
            status = till.status()
            ofd_stats, odoo_stats = ofd.control.stats(), odoo.control.stats()
            dlq = till.dlq()
        finally:
            till.stop()

    print(
        f"\nDRAIN BENCHMARK: {COUNT} buffered receipts, {RTT_MS} ms RTT "
        f"({'netem' if NetLab.netem_available() else 'stand-in delay_ms'}), breaker reset 1 s\n"
        f"  setup: printed {COUNT} receipts in {printing:.1f} s ({COUNT / printing:.0f}/s), "
        f"all {documents} FN documents captured after {capture:.1f} s\n"
        f"  {'endpoint':<22}{'documents':>10}{'seconds':>9}{'rate/s':>9}{'requests':>10}{'duplicates':>12}"
    )
    for name, count, stats in (("OFD", documents, ofd_stats), ("Odoo", COUNT, odoo_stats)):
        seconds = drained[name]
        # API requests during the drain, heartbeats left out: the delivery batches
        batches = (stats["requests"] - before[name]["requests"]) - (
            stats.get("heartbeats", 0) - before[name].get("heartbeats", 0)
        )
        print(
            f"  {name:<22}{count:>10}{seconds:>9.2f}{count / seconds:>9.0f}"
            f"{batches:>10}{stats['duplicates']:>12}"
        )
    odoo_own = max(drained["Odoo"] - drained["OFD"], 0.01)
    print(
        f"  (a sync run delivers the OFD leg before the Odoo leg: Odoo's own share {odoo_own:.2f} s, "
        f"{COUNT / odoo_own:.0f}/s)\n"
        f"  acks back in the FN   {documents:>10}{drained['acks back in the FN']:>9.2f}"
        f"{documents / drained['acks back in the FN']:>9.0f}\n"
        f"  all done in {wall:.2f} s; FN ofd_queue_size {fn_queue}, "
        f"buffer queued {status['current_queued']}, DLQ {len(dlq)}"
    )
    assert drained["OFD"] <= TARGET_OFD_SECONDS
    assert fn_queue == 0 and status["current_queued"] == 0 and dlq == []
    assert ofd_stats["rejected"] == 0 and odoo_stats["rejected"] == 0
