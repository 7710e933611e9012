"""Two Odoo servers (``--workers=2`` each) on one database receive the same batch at the same moment.

100 rounds of a batch of 50: every document must end up as exactly one row, every answer a 200 with each
receipt ``created`` by exactly one of the two requests and ``duplicate`` in the other (Odoo retries the
loser on a fresh snapshot: ``optics.fiscal.document._record``), never a 5xx.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.kit.odoo_server import Bench, OdooServer

ROUNDS = 100
BATCH = 50
API = "/optics_pos_ru54fz/v1/receipts"


def batch(fn: str, start: int) -> list[dict]:
    return [
        {
            "receipt_id": str(uuid.uuid4()),
            "fn_number": fn,
            "fd": start + n,
            "fiscal_sign": 1000 + n,
            "issued_at": "2026-12-04T10:00:00+03:00",
            "kind": "sale",
            "total": 10_000 + n,
            "original_receipt_id": None,
            "hlc": f"{1796378400000 + n:015d}.00000",
            "document": {"type": "sale", "items": [{"name": "Линза", "quantity": 1}]},
        }
        for n in range(BATCH)
    ]


def test_the_same_batch_on_two_servers_at_once_is_recorded_once(bench: Bench) -> None:
    fn = "7777" + "".join(random.choices("0123456789", k=12))
    with OdooServer(bench, "concurrency-a") as a, OdooServer(bench, "concurrency-b") as b:
        pos_id = f"race-{uuid.uuid4().hex[:8]}"
        token = a.add_till(pos_id)
        headers = {"Authorization": f"Bearer {token}"}
        statuses: Counter[int] = Counter()
        outcomes: Counter[str] = Counter()
        took = []
        with ThreadPoolExecutor(2) as pool:
            for round_no in range(ROUNDS):
                items = batch(fn, 1 + round_no * BATCH)
                body = {"pos_id": pos_id, "receipts": items}
                gate = threading.Barrier(2)

                def post(
                    server: OdooServer, body: dict = body, gate: threading.Barrier = gate
                ) -> requests.Response:
                    gate.wait()
                    return requests.post(server.url + API, json=body, headers=headers, timeout=120)

                started = time.monotonic()
                answers = list(pool.map(post, (a, b)))
                took.append(time.monotonic() - started)
                per_receipt: dict[str, list[str]] = {item["receipt_id"]: [] for item in items}
                for resp in answers:
                    statuses[resp.status_code] += 1
                    assert resp.status_code == 200, f"round {round_no}: {resp.status_code} {resp.text[:300]}"
                    for result in resp.json()["results"]:
                        per_receipt[result["receipt_id"]].append(result["status"])
                        outcomes[result["status"]] += 1
                for rid, seen in per_receipt.items():
                    assert sorted(seen) == ["created", "duplicate"], (
                        f"round {round_no}, receipt {rid}: {seen}"
                    )
    rows = bench.sql(
        "SELECT count(*), count(DISTINCT receipt_id), count(DISTINCT fd) FROM optics_fiscal_document "
        f"WHERE fn_number = '{fn}'"
    )
    assert rows.strip() == f"{ROUNDS * BATCH}|{ROUNDS * BATCH}|{ROUNDS * BATCH}"
    took.sort()
    print(
        f"\nconcurrency: {ROUNDS} rounds x {BATCH} receipts on 2 servers x 2 workers: "
        f"HTTP {dict(statuses)}, {dict(outcomes)}, rows {ROUNDS * BATCH}; "
        f"round median {took[len(took) // 2]:.2f} s, max {took[-1]:.2f} s"
    )
