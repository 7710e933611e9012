"""A fleet backlog into Odoo: 40 tills x 50 receipts through the receiver vs Odoo's own POS path.

After an outage every till delivers its backlog at once. 2,000 fiscal documents (40 batches of 50, 4 tills
posting at a time) go into ``optics_pos_ru54fz`` on ``odoo-bin --workers=2``, each joined to its POS order
(reconciliation included: the orders were pushed first). The anchor, measured in the same run on the same
orders: Odoo's ``create_from_ui`` one order per call and 50 per call (as the POS sends its queue). Target:
the receiver at least as fast as the batched POS path (the issue measured ~52 orders/s there: 2,000 documents
in <= 40 s).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests

from tests.kit.odoo_server import Bench, OdooServer

TILLS = 40
PER_TILL = 50
ONE_BY_ONE = 100  # orders pushed one per call (the slow anchor; a sample is enough for its rate)
CLIENTS = 4  # tills posting at the same moment
API = "/optics_pos_ru54fz/v1/receipts"


def open_session(server: OdooServer) -> dict:
    """The bench database's point of sale with an open session, a product and its cash method."""
    [config] = server.call("pos.config", "search_read", [], fields=["id", "pricelist_id"], limit=1)
    server.call("pos.config", "open_ui", [config["id"]])
    [session] = server.call(
        "pos.session", "search_read", [("config_id", "=", config["id"]), ("state", "!=", "closed")],
        fields=["id", "state"], limit=1,
    )  # fmt: skip
    server.call("pos.session", "action_pos_session_open", [session["id"]])
    cash = [("config_ids", "in", [config["id"]]), ("is_cash_count", "=", True)]
    methods = server.call("pos.payment.method", "search_read", cash, fields=["id"], limit=1)
    lens = {"name": "Bench lens", "list_price": 100.0, "available_in_pos": True, "type": "consu"}
    product = server.call("product.product", "create", {**lens, "taxes_id": [(5,)]})
    return {
        "session": session["id"],
        "pricelist": (config["pricelist_id"] or [False])[0],  # a config without a pricelist sends none
        "cash": methods[0]["id"],
        "product": product,
        "uid": server.call("res.users", "search", [("login", "=", "admin")])[0],
    }


def ui_order(pos: dict, key: str, n: int) -> dict:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    uid = f"{n:05d}-bench-{key[:8]}"
    data = {
        "name": f"Order {uid}", "uid": uid, "access_token": key, "pos_session_id": pos["session"],
        "user_id": pos["uid"], "partner_id": False, "sequence_number": n, "date_order": now,
        "fiscal_position_id": False, "pricelist_id": pos["pricelist"], "to_invoice": False,
        "lines": [(0, 0, {"product_id": pos["product"], "qty": 1, "price_unit": 100.0, "discount": 0,
                          "price_subtotal": 100.0, "price_subtotal_incl": 100.0, "tax_ids": [(6, 0, [])],
                          "pack_lot_ids": [], "full_product_name": "Bench lens"})],
        "statement_ids": [(0, 0, {"amount": 100.0, "name": now, "payment_method_id": pos["cash"]})],
        "amount_total": 100.0, "amount_tax": 0.0, "amount_paid": 100.0, "amount_return": 0,
    }  # fmt: skip
    return {"data": data, "id": uid, "to_invoice": False}


def document(fn: str, fd: int, key: str) -> dict:
    return {
        "receipt_id": str(uuid.uuid4()), "idempotency_key": key, "fn_number": fn, "fd": fd,
        "fiscal_sign": 100_000 + fd, "issued_at": datetime.now(UTC).isoformat(), "kind": "sale",
        "total": 10_000, "original_receipt_id": None, "hlc": f"{1796378400000 + fd:015d}.00000",
        "document": {"type": "sale", "items": [{"name": "Bench lens", "price": "100.00", "quantity": 1,
                                                "amount": "100.00", "vat": 6}],
                     "payments": [{"method": "cash", "amount": "100.00"}]},
    }  # fmt: skip


def test_a_fleet_backlog_is_ingested_faster_than_odoos_pos_path(bench: Bench) -> None:
    with OdooServer(bench, "ingest-bench") as server:
        pos = open_session(server)
        run = uuid.uuid4().hex[:6]
        tills = {f"ingest-{run}-{i:02d}": server.add_till(f"ingest-{run}-{i:02d}") for i in range(TILLS)}
        fns = {pos_id: "5555" + "".join(random.choices("0123456789", k=12)) for pos_id in tills}
        keys = {pos_id: [str(uuid.uuid4()) for _ in range(PER_TILL)] for pos_id in tills}
        orders = [ui_order(pos, key, n) for n, key in enumerate(k for ks in keys.values() for k in ks)]

        # Anchor 1: Odoo's POS path, one order per call.
        started = time.monotonic()
        for order in orders[:ONE_BY_ONE]:
            server.call("pos.order", "create_from_ui", [order])
        one_rate = ONE_BY_ONE / (time.monotonic() - started)
        # Anchor 2: 50 orders per call, as the POS sends its queue after an outage.
        rest = orders[ONE_BY_ONE:]
        started = time.monotonic()
        for i in range(0, len(rest), PER_TILL):
            server.call("pos.order", "create_from_ui", rest[i : i + PER_TILL])
        batch_rate = len(rest) / (time.monotonic() - started)

        # The receiver: every till's backlog, 4 tills at a time, each document joined to its order.
        def deliver(pos_id: str) -> float:
            body = {"pos_id": pos_id, "receipts": [document(fns[pos_id], fd + 1, key)
                                                   for fd, key in enumerate(keys[pos_id])]}  # fmt: skip
            t0 = time.monotonic()
            resp = requests.post(server.url + API, json=body, timeout=300,
                                 headers={"Authorization": f"Bearer {tills[pos_id]}"})  # fmt: skip
            took = time.monotonic() - t0
            assert resp.status_code == 200, resp.text[:300]
            assert {r["status"] for r in resp.json()["results"]} == {"created"}
            return took

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            latencies = sorted(pool.map(deliver, tills))
        wall = time.monotonic() - started
        documents = TILLS * PER_TILL
        rate = documents / wall

    fn_list = ", ".join(f"'{fn}'" for fn in fns.values())
    counts = bench.sql(
        "SELECT count(*), count(pos_order_id), count(DISTINCT pos_order_id) FROM optics_fiscal_document "
        f"WHERE fn_number IN ({fn_list})"
    ).strip()
    assert counts == f"{documents}|{documents}|{documents}"  # every document joined to its own order
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\ningest: {documents} documents from {TILLS} tills x {PER_TILL} on odoo-bin --workers=2, "
        f"{CLIENTS} tills at a time: {wall:.1f} s, {rate:.0f} documents/s, batch latency median "
        f"{statistics.median(latencies):.2f} s, p95 {p95:.2f} s; joined to their orders "
        f"{documents}/{documents}\n"
        f"anchor create_from_ui (same run, same orders): one per call {one_rate:.1f} orders/s, 50 per call "
        f"{batch_rate:.1f} orders/s; ratio receiver/batched {rate / batch_rate:.2f}, receiver/one-by-one "
        f"{rate / one_rate:.2f}"
    )
    assert rate >= batch_rate, "the receiver must take a backlog at least as fast as Odoo's batched POS path"
