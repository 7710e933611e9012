"""kill -9 of the Odoo server in the middle of a batch, restart, the till sends it again: 0 lost, 0 twice.

"In the middle" is made certain, not hoped for: a transaction of the test holds receipt 25's key, so the
server's request has inserted receipts 1..24 and waits on 25 when the whole server (master and workers)
gets SIGKILL. The till's own client (``kkt_adapter.sync.clients.OdooClient``) sees a transient failure and
sends the batch again to the restarted server.
"""

from __future__ import annotations

import random
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from kkt_adapter.sync.clients import OdooClient, TransientError
from tests.kit.odoo_server import Bench, OdooServer

BATCH = 50
HELD = 25  # the receipt whose key the test holds: the request stops there


def receipts(fn: str) -> list[dict]:
    return [
        {
            "receipt_id": str(uuid.uuid4()),
            "fn_number": fn,
            "fd": fd,
            "fiscal_sign": 5000 + fd,
            "issued_at": "2026-12-04T10:00:00+03:00",
            "kind": "sale",
            "total": 250_000,
            "original_receipt_id": None,
            "hlc": f"{1796378400000 + fd:015d}.00000",
            "document": {"type": "sale", "items": [{"name": "Оправа", "quantity": 1}]},
        }
        for fd in range(1, BATCH + 1)
    ]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_a_server_killed_mid_batch_loses_nothing_and_records_nothing_twice(bench: Bench) -> None:
    fn = "6666" + "".join(random.choices("0123456789", k=12))
    items = receipts(fn)
    held = items[HELD - 1]
    server = OdooServer(bench, "kill9").start()
    try:
        pos_id = f"kill9-{uuid.uuid4().hex[:8]}"
        token = server.add_till(pos_id)
        till_id = bench.sql(f"SELECT id FROM pos_offline_buffer_status WHERE pos_id = '{pos_id}'").strip()
        blocker = subprocess.Popen(
            bench.psql_command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert blocker.stdin is not None
        blocker.stdin.write(
            "BEGIN;\n"
            "INSERT INTO optics_fiscal_document (receipt_id, fn_number, fd, fiscal_sign, kind,"
            " fiscal_document_type, total, issued_at, hlc, till_id, state, received_at) VALUES"
            f" ('{held['receipt_id']}', '{fn}', {HELD}, 1, 'sale', '3', 1, now(), '{held['hlc']}', {till_id},"
            " 'recorded', now());\n"
        )
        blocker.stdin.flush()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO \"optics_fiscal_document\"%'"
        )
        till = OdooClient(server.url, timeout=60, token=token)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(till.send, pos_id, items)
            wait_for(lambda: bench.sql(waiting).strip() == "1", 60, "the request to wait on receipt 25")
            server.kill()
            with pytest.raises(TransientError):  # the till classifies it: retry later, never the DLQ
                first.result(timeout=30)
        blocker.stdin.write("ROLLBACK;\n")
        blocker.stdin.close()
        blocker.wait(timeout=30)
        orphans = (
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{bench.database}' AND state <> 'idle'"
        )
        wait_for(
            lambda: bench.sql(orphans).strip() == "1", 30, "the killed server's backend to end"
        )  # only psql
        count = f"SELECT count(*) FROM optics_fiscal_document WHERE fn_number = '{fn}'"
        assert bench.sql(count).strip() == "0"  # receipts 1..24 were never committed

        server = OdooServer(bench, "kill9-restarted").start()
        till = OdooClient(server.url, timeout=60, token=token)
        again = till.send(pos_id, items)
        assert all(r.ok for r in again.items.values()) and len(again.items) == BATCH
        third = OdooClient(server.url, timeout=60, token=token).send(
            pos_id, items
        )  # the answer was lost, say
        assert all(r.ok for r in third.items.values())
        rows = bench.sql(
            f"SELECT count(*), count(DISTINCT fd) FROM optics_fiscal_document WHERE fn_number = '{fn}'"
        )
        assert rows.strip() == f"{BATCH}|{BATCH}"  # 0 lost, 0 twice
        statuses = bench.sql(
            f"SELECT string_agg(DISTINCT state, ',') FROM optics_fiscal_document WHERE fn_number = '{fn}'"
        )
        assert statuses.strip() == "recorded"
    finally:
        server.stop()
