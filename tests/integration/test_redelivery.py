"""Odoo restored from a backup loses receipts; the till's heartbeat finds them and sends them again.

A real till (the KKT emulator on a pty, the adapter under gunicorn with the fleet's fast timers: a heartbeat
every second) delivers to the OFD and Odoo stand-ins on loopback. The Odoo stand-in then forgets receipts
as a restore of its database to an earlier point would (``POST /control/forget``: the newest ones, and one
in the middle, delivered out of order before the restore point), and nobody touches the till: within a few
heartbeats Odoo holds every receipt again, each exactly once, and the till's counter, events and log say
what happened. The rule itself is unit-tested in tests/unit/test_redelivery.py.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Iterator

import pytest

from tests.kit.fleet import Till, read_db, token_of, wait_all
from tests.kit.standins.common import StandinProcess

POS_ID = "till-1"
SALES = 10
LOST_NEWEST = 3  # the receipts Odoo recorded after the restore point
COUNTER_SQL = "SELECT value FROM counters WHERE name = 'kkt_odoo_redeliveries_total'"
EVENTS_SQL = "SELECT metadata FROM buffer_events WHERE event_type = 'odoo_redelivery_queued' ORDER BY id"


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[Till, StandinProcess]]:
    ofd = StandinProcess.start("ofd", log_path=tmp_path / "ofd.log")
    odoo = StandinProcess.start(
        "odoo", args=["--token", f"{POS_ID}={token_of(POS_ID)}"], log_path=tmp_path / "odoo.log"
    )
    till = None
    try:
        till = Till.start(tmp_path, POS_ID, ofd_url=ofd.url, odoo_url=odoo.url)
        yield till, odoo
    finally:
        if till is not None:
            till.stop()
        assert odoo.stop() == 0 and ofd.stop() == 0


def redeliveries(till: Till) -> int:
    rows = read_db(till.adapter.db_path, COUNTER_SQL)
    return int(rows[0][0]) if rows else 0


def odoo_has(odoo: StandinProcess, count: int):
    def probe() -> tuple[bool, object]:
        stats = odoo.control.stats()
        return stats["unique_receipts"] == count, stats

    return probe


def test_receipts_odoo_lost_in_a_restore_come_back_exactly_once_without_an_operator(stack):
    till, odoo = stack
    for _ in range(SALES):
        _, resp = till.sell()
        assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text[:300]
    wait_all({"Odoo has every receipt": odoo_has(odoo, SALES), "till drained": till.drained}, timeout=60)
    beats = odoo.control.stats()["heartbeats"]
    wait_all({"3 more heartbeats": lambda: (odoo.control.stats()["heartbeats"] >= beats + 3, beats)}, 30)
    # Heartbeats ran all along, while receipts were being delivered: none was sent twice.
    assert redeliveries(till) == 0
    by_fd = sorted(odoo.control.receipts(), key=lambda r: r["fd"])
    fn_number = by_fd[0]["fn_number"]
    # Every heartbeat asks about the FN, from the lowest FD delivered in the last two weeks.
    assert odoo.control.heartbeats()[POS_ID]["fiscal_check"] == [
        {"fn_number": fn_number, "from_fd": by_fd[0]["fd"]}
    ]
    restore_point = by_fd[-LOST_NEWEST - 1]["fd"]
    hole = by_fd[2]  # delivered after the restore point although its FD is lower (out of order)
    forgotten = odoo.control.forget(
        after_fd=restore_point, fn_number=fn_number, receipt_ids=[hole["receipt_id"]]
    )
    assert len(forgotten) == LOST_NEWEST + 1
    assert odoo.control.stats()["unique_receipts"] == SALES - LOST_NEWEST - 1
    started = time.monotonic()
    took = wait_all({"Odoo has every receipt again": odoo_has(odoo, SALES)}, timeout=60)
    seconds = time.monotonic() - started
    wait_all({"till drained again": till.drained}, timeout=30)

    # Exactly once: Odoo holds the FN's receipts with the ids the till answered, none rejected.
    answered = {
        (a["fiscal_doc"]["fn_number"], a["fiscal_doc"]["fd_number"]): a["receipt_id"]
        for a in till.answers.values()
    }
    receipts = odoo.control.receipts()
    assert collections.Counter(r["receipt_id"] for r in receipts).most_common(1)[0][1] == 1
    assert {(r["fn_number"], r["fd"]): r["receipt_id"] for r in receipts} == answered
    stats = odoo.control.stats()
    assert stats["rejected"] == 0 and stats["unique_receipts"] == SALES
    assert till.receipt_statuses() == {"synced": SALES}

    # What the till says: the newest 3 above Odoo's last FD; the gap below sends the range again (Odoo
    # answers duplicate for the 6 it kept). Later heartbeats find nothing more to send.
    events = [json.loads(row[0]) for row in read_db(till.adapter.db_path, EVENTS_SQL)]
    reasons = collections.Counter(e["reason"] for e in events)
    assert reasons == {"above_max_fd": LOST_NEWEST, "count_short": SALES - LOST_NEWEST}, events
    assert {e["fd"] for e in events} == {fd for _, fd in answered}
    assert redeliveries(till) == SALES and stats["duplicates"] == SALES - LOST_NEWEST - 1
    beats = odoo.control.stats()["heartbeats"]
    wait_all({"3 more heartbeats": lambda: (odoo.control.stats()["heartbeats"] >= beats + 3, beats)}, 30)
    assert redeliveries(till) == SALES
    metrics = till.session.get(till.adapter.url + "/metrics", timeout=10).text
    assert f'kkt_odoo_redeliveries_total{{pos_id="{POS_ID}"}} {float(SALES)}' in metrics
    log = (till.adapter.workdir / "adapter.log").read_text(encoding="utf-8")
    assert f"Odoo lost fiscal documents of FN {fn_number}" in log
    print(
        f"\nre-delivery: {len(forgotten)} receipts lost by Odoo back in {seconds:.1f} s "
        f"(heartbeat every 1 s; first all-present probe at {took['Odoo has every receipt again']:.1f} s), "
        f"{SALES} sent again, {stats['duplicates']} answered duplicate"
    )
