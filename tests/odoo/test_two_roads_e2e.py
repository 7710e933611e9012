"""POC-4 into real Odoo: two roads, one record (issue 11).

Two tills (KKT emulator + adapter) sell 50 receipts each while cut off from Odoo (a ``Gate``), the FN clock
moving on by 8 h; the POS's own copies of the same orders reach Odoo by ``create_from_ui`` in a random
interleaving — some before the till delivers, some after, some never. Then every fiscal document must be
joined to exactly one POS order: 0 duplicated orders, 0 documents without an order; the orders the POS
never sent are built from the documents (the cron, grace period 0 here) and listed.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime

from tests.kit.fleet import Till, stop_tills, wait_all
from tests.kit.gate import Gate
from tests.kit.odoo_server import Bench, OdooServer
from tests.kit.standins.common import StandinProcess

RECEIPTS = 50
OUTAGE_FN_SECONDS = 8 * 3600
ROADS = ("before", "after", "never")  # when the POS's copy reaches Odoo, relative to the till's document


def pos_setup(server: OdooServer) -> dict:
    [config] = server.call("pos.config", "search_read", [], fields=["id", "pricelist_id"], limit=1)
    server.call("pos.config", "open_ui", [config["id"]])
    [session] = server.call(
        "pos.session", "search_read", [("config_id", "=", config["id"]), ("state", "!=", "closed")],
        fields=["id"], limit=1,
    )  # fmt: skip
    server.call("pos.session", "action_pos_session_open", [session["id"]])
    card = [("config_ids", "in", [config["id"]]), ("is_cash_count", "=", False)]
    [method] = server.call("pos.payment.method", "search_read", card, fields=["id"], limit=1)
    lens = {"name": "E2E lens", "available_in_pos": True, "type": "consu", "taxes_id": [(5,)]}
    return {
        "config": config["id"],
        "session": session["id"],
        "pricelist": (config["pricelist_id"] or [False])[0],
        "card": method["id"],
        "product": server.call("product.product", "create", lens),
        "uid": server.call("res.users", "search", [("login", "=", "admin")])[0],
    }


def pos_order(pos: dict, key: str, body: dict) -> dict:
    """The POS's own copy of a sale the till printed (same key, same price)."""
    price = float(body["items"][0]["price"])
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    data = {
        "name": f"Order {key[:13]}", "uid": key[:13], "access_token": key, "pos_session_id": pos["session"],
        "user_id": pos["uid"], "partner_id": False, "sequence_number": 1, "date_order": now,
        "fiscal_position_id": False, "pricelist_id": pos["pricelist"], "to_invoice": False,
        "lines": [(0, 0, {"product_id": pos["product"], "qty": 1, "price_unit": price, "discount": 0,
                          "price_subtotal": price, "price_subtotal_incl": price, "tax_ids": [(6, 0, [])],
                          "pack_lot_ids": [], "full_product_name": body["items"][0]["name"]})],
        "statement_ids": [(0, 0, {"amount": price, "name": now, "payment_method_id": pos["card"]})],
        "amount_total": price, "amount_tax": 0.0, "amount_paid": price, "amount_return": 0,
    }  # fmt: skip
    return {"data": data, "id": key[:13], "to_invoice": False}


def test_two_tills_offline_and_the_pos_copies_become_one_record_each(bench: Bench, tmp_path) -> None:
    rng = random.Random(11)
    run = uuid.uuid4().hex[:6]
    # FN numbers of this run only (the bench database keeps earlier runs' documents); the roads are seeded.
    fns = {f"e2e-{run}-{n}": f"4444{uuid.uuid4().int % 10**12:012d}" for n in (1, 2)}
    ofd = StandinProcess.start("ofd", state_dir=tmp_path / "ofd")
    with OdooServer(bench, "two-roads") as server, Gate(server.port, open_=False) as gate:
        pos = pos_setup(server)
        tokens = {pos_id: server.add_till(pos_id) for pos_id in fns}
        till_ids = server.call("pos.offline.buffer.status", "search", [("pos_id", "in", list(fns))])
        server.call("pos.offline.buffer.status", "write", till_ids, {"pos_config_id": pos["config"]})
        server.call("ir.config_parameter", "set_param", "optics_pos_ru54fz.order_grace_minutes", "0")
        tills = []
        try:
            for pos_id, fn in fns.items():
                tills.append(Till.start(tmp_path, pos_id, ofd_url=ofd.url, odoo_url=gate.url,
                                        odoo_token=tokens[pos_id], fn_number=fn))  # fmt: skip
            roads: dict[str, str] = {}
            for _ in range(RECEIPTS):  # the outage: the tills print, the POS pushes some copies meanwhile
                for till in tills:
                    key, resp = till.sell()
                    assert resp.status_code == 200 and resp.json()["status"] == "printed", resp.text[:200]
                    roads[key] = rng.choice(ROADS)
                    if roads[key] == "before":
                        server.call("pos.order", "create_from_ui", [pos_order(pos, key, till.sold[key])])
                    till.emulator.control.advance(OUTAGE_FN_SECONDS / RECEIPTS)
            fn_list = ", ".join(f"'{fn}'" for fn in fns.values())
            delivered = f"SELECT count(*) FROM optics_fiscal_document WHERE fn_number IN ({fn_list})"
            assert bench.sql(delivered).strip() == "0"  # the gate held: nothing reached Odoo
            gate.open()
            started = time.monotonic()

            def all_delivered() -> tuple[bool, str]:
                seen = bench.sql(delivered).strip()
                return seen == str(2 * RECEIPTS), seen

            wait_all({"documents in Odoo": all_delivered}, timeout=180)
            drained = time.monotonic() - started
            bodies = {key: body for till in tills for key, body in till.sold.items()}
            for key, road in roads.items():
                if road == "after":
                    server.call("pos.order", "create_from_ui", [pos_order(pos, key, bodies[key])])
            cron = server.call("ir.model.data", "check_object_reference", "optics_pos_ru54fz",
                               "cron_create_missing_orders")[1]  # fmt: skip
            server.call("ir.cron", "method_direct_trigger", [cron])
        finally:
            stop_tills(tills)
            ofd.stop()

        keys = list(roads)
        key_list = ", ".join(f"'{k}'" for k in keys)
        docs = bench.sql(
            "SELECT count(*), count(pos_order_id), count(DISTINCT pos_order_id), count(review_reason) "
            f"FROM optics_fiscal_document WHERE fn_number IN ({fn_list})"
        ).strip()
        orders = bench.sql(
            f"SELECT count(*), count(DISTINCT access_token) FROM pos_order WHERE access_token IN ({key_list})"
        ).strip()
        built = bench.sql(
            f"SELECT access_token FROM pos_order WHERE access_token IN ({key_list}) "
            "AND till_origin IS NOT NULL"
        ).split()
        never = sorted(k for k, road in roads.items() if road == "never")
        counts = {road: sum(1 for r in roads.values() if r == road) for road in ROADS}
        print(
            f"\ntwo roads: {len(keys)} sales on 2 tills, 8 h offline by the FN clock, "
            f"delivered in {drained:.1f} s; "
            f"POS copies {counts['before']} before, {counts['after']} after, {counts['never']} never; "
            f"documents|joined|distinct orders|flagged = {docs}; orders|distinct keys = {orders}; "
            f"built from the till: {len(built)}"
        )
        n = len(keys)
        assert docs == f"{n}|{n}|{n}|0"  # every document joined to its own order, totals agree
        assert orders == f"{n}|{n}"  # one order per sale: 0 duplicates, 0 orphans
        assert sorted(built) == never  # the report: exactly the sales the POS never sent
