"""POC-4: two tills sell through a compressed 8-hour outage and drain everything once the link is back.

Real processes and a real network fault: two KKT emulators, two adapters (gunicorn, own buffers, pos_ids
till-1/till-2) and the OFD and Odoo stand-ins running inside one NetLab namespace, reached over its data
link (the management link, never faulted, carries the test's control calls). The link goes down; each
till sells 50 receipts while its FN clock is moved on by 8 h / 50 after each one, so the FN's own notion
of the backlog reaches 8 hours. Meanwhile every sale must print at once, both breakers open and the
heartbeat calls the network offline. Then the link comes back and the test measures the time until both
endpoints hold everything, the buffers are empty and the OFD acknowledgments are back in the FNs.
The adapters' timers are compressed by configuration (breaker reset 2 s, backoff cap 2 s, heartbeat 1 s,
relay 0.5 s); nothing in the product is mocked.

The fleet helpers live in ``tests/kit/fleet.py`` (shared with POC-5 and the drain benchmark).
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
import requests

from tests.kit.fleet import (
    FN_NUMBERS,
    Till,
    endpoint_conditions,
    lab_with_standins,
    needs_lab,
    network_in,
    start_tills,
    stop_tills,
    verify_exactly_once,
    wait_all,
)

RECEIPTS = 50  # per till
OUTAGE_FN_SECONDS = 8 * 3600  # what the FN clock lives through while the link is down
MAX_SALE_SECONDS = 5.0  # a sale never waits for the network (typically ~50 ms here)
DRAIN_LIMIT_SECONDS = 600.0  # owner's plan: the backlog of an 8 h outage drains within 10 min


# ---- POC-4 -----------------------------------------------------------------------------------------


def sell_through_the_outage(till: Till, latencies: list[float], errors: list[str]) -> None:
    """50 sales, the FN clock moved on by 8 h / 50 after each: the backlog ages 8 hours in FN time."""
    for _ in range(RECEIPTS):
        started = time.monotonic()
        try:
            key, resp = till.sell()
        except requests.RequestException as exc:
            errors.append(f"{till.pos_id}: {exc}")
            continue
        latencies.append(time.monotonic() - started)
        if resp.status_code != 200 or resp.json().get("status") != "printed":
            errors.append(f"{till.pos_id} {key}: HTTP {resp.status_code} {resp.text[:200]}")
        till.emulator.control.advance(OUTAGE_FN_SECONDS / RECEIPTS)


@pytest.mark.slow
@needs_lab
def test_poc4_two_tills_eight_hours_offline(tmp_path):
    pos_ids = ("till-1", "till-2")
    with lab_with_standins(tmp_path / "lab", pos_ids) as (lab, ofd, odoo):
        tills = start_tills(tmp_path, pos_ids, ofd, odoo)
        try:
            wait_all({f"{t.pos_id} online": lambda t=t: network_in(t, "online") for t in tills}, timeout=30)
            lab.link_down()
            latencies: list[float] = []
            errors: list[str] = []
            sellers = [
                threading.Thread(target=sell_through_the_outage, args=(t, latencies, errors)) for t in tills
            ]
            outage_started = time.monotonic()
            for thread in sellers:
                thread.start()
            for thread in sellers:
                thread.join(timeout=300)
            assert not any(thread.is_alive() for thread in sellers), "sales did not finish within 300 s"
            selling = time.monotonic() - outage_started
            assert not errors, errors[:5]
            assert all(len(t.answers) == RECEIPTS for t in tills)
            assert max(latencies) < MAX_SALE_SECONDS, "a sale waited for the network"

            during = {}
            for till in tills:
                during[f"{till.pos_id} FN holds 51 unconfirmed"] = lambda t=till: _fn_queue_is(
                    t, RECEIPTS + 1
                )
                during[f"{till.pos_id} FN backlog 8 h old"] = lambda t=till: _backlog_aged(t)
                during[f"{till.pos_id} breakers open"] = lambda t=till: t.breakers_opened("ofd", "odoo")
                during[f"{till.pos_id} network offline"] = lambda t=till: network_in(t, "offline")
                during[f"{till.pos_id} 50 receipts queued"] = lambda t=till: _queued_is(t, RECEIPTS)
            observed = wait_all(during, timeout=60)
            assert ofd.control.stats()["unique_documents"] == 0, "the OFD was reached during the outage"
            assert odoo.control.stats()["unique_receipts"] == 0, "Odoo was reached during the outage"
            backlog = {t.pos_id: t.components()["fn_backlog"] for t in tills}
            opens_offline = {t.pos_id: t.breaker_opens() for t in tills}

            lab.link_up()
            drained = wait_all(endpoint_conditions(tills, ofd, odoo), timeout=DRAIN_LIMIT_SECONDS + 30)
            drain = max(drained.values())
            ofd_stats, odoo_stats = ofd.control.stats(), odoo.control.stats()
            absorbed = verify_exactly_once(tills, ofd, odoo)
            per_till = {
                t.pos_id: (
                    len(t.answers),
                    len(t.fn_journal()),
                    ofd_stats["by_fn"].get(FN_NUMBERS[t.pos_id], 0),
                    sum(1 for r in odoo.control.receipts() if r["pos_id"] == t.pos_id),
                    t.breaker_opens(),
                    len(t.dlq()),
                )
                for t in tills
            }
        finally:
            stop_tills(tills)

    print(
        "\nPOC-4: 2 tills, 8 h offline (FN clock), link back -> drain\n"
        f"  sales during the outage            {sum(len(t.answers) for t in tills)} in {selling:.1f} s, "
        f"all printed; latency median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    print("  outage as the tills see it (s after the last sale)")
    for name, seconds in sorted(observed.items(), key=lambda kv: kv[1]):
        print(f"    {name:<34} {seconds:6.1f} s")
    for pos_id, view in backlog.items():
        print(
            f"  {pos_id} FN backlog at link-up       {view['unconfirmed']} unconfirmed, oldest "
            f"{view['oldest_age_seconds'] / 3600:.2f} h old, {view['days_to_block']} days to the block; "
            f"breaker opens while offline {opens_offline[pos_id]}"
        )
    print(f"  time to drain (link up -> all)     {drain:.1f} s (limit {DRAIN_LIMIT_SECONDS:.0f} s)")
    for name, seconds in sorted(drained.items(), key=lambda kv: kv[1]):
        print(f"    {name:<34} {seconds:6.1f} s")
    print("  per till: sales / FN docs / OFD docs / Odoo receipts / breaker opens / DLQ")
    for pos_id, row in per_till.items():
        print(f"    {pos_id:<8} " + " / ".join(str(v) for v in row))
    print(
        f"  OFD  requests {ofd_stats['requests']}, documents received {ofd_stats['received']}, "
        f"unique {ofd_stats['unique_documents']}, duplicates absorbed {absorbed['ofd_duplicates']}\n"
        f"  Odoo requests {odoo_stats['requests']}, receipts received {odoo_stats['received']}, "
        f"unique {odoo_stats['unique_receipts']}, duplicates absorbed {absorbed['odoo_duplicates']}\n"
        "  duplicates recorded                0 (FN journals, OFD, Odoo checked)"
    )
    assert drain <= DRAIN_LIMIT_SECONDS
    assert ofd_stats["unique_documents"] == 2 * (RECEIPTS + 1)
    assert odoo_stats["unique_receipts"] == 2 * RECEIPTS


def _fn_queue_is(till: Till, size: int) -> tuple[bool, Any]:
    queue = till.fn()["ofd_queue_size"]
    return queue == size, f"ofd_queue_size={queue}"


def _backlog_aged(till: Till) -> tuple[bool, Any]:
    view = till.components()["fn_backlog"]
    ok = (
        view.get("unconfirmed") == RECEIPTS + 1
        and view.get("oldest_age_seconds", 0) >= OUTAGE_FN_SECONDS - 60
    )
    return ok, view


def _queued_is(till: Till, count: int) -> tuple[bool, Any]:
    st = till.status()
    return st["current_queued"] == count and st["not_printed"] == 0, st
