"""Builds a buffer as tills in the field hold it, with the adapter code they run, for the schema upgrade test.

Run against the released code (schema v2, commit f9f65ab), never against the current tree:

    git worktree add --detach /tmp/v2 f9f65ab
    PYTHONPATH=/tmp/v2/appliance:. python -m tests.kit.field_buffer tests/fixtures/field-buffer-v2

It drives the released ``FiscalService`` with the in-memory KKT (``FakeDevice``) and the released buffer
functions, and leaves receipts in every state — printed and delivered, printed and undelivered, a refund,
a correction, rejected by the KKT, waiting for paper, in doubt (signed by the FN, the answer lost) — plus
OFD legs with acknowledgments not yet applied, a DLQ entry and stored idempotent answers. It writes
``buffer.db`` (WAL checkpointed), ``fn.json`` (the FN's journal, for ``FakeDevice.loads``) and
``manifest.json`` (key, body and state of each receipt). tests/integration/test_schema_upgrade.py checks
that the current code upgrades it, keeps every row and delivers everything.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import uuid
from pathlib import Path

from kkt_adapter import config as config_mod
from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import deliveries, journal
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.errors import KktDeviceError, KktLinkError, KktTimeout
from tests.kit.fake_device import FakeDevice

POS_ID = "field-till"


def _line(name: str, price: str, quantity: object, vat: int, **extra: object) -> dict:
    return {"name": name, "price": price, "quantity": quantity, "vat": vat, **extra}


def bodies() -> dict[str, dict]:
    """The receipts of a small trading day, by the state the generator leaves them in."""
    sale = {"pos_id": POS_ID, "type": "sale"}
    return {
        "synced_sale": {
            **sale,
            "items": [_line("Оправа Ray-Ban RB5154", "8500.00", 1, 6), _line("Футляр", "450", 2, 11)],
            "payments": [{"method": "card", "amount": "9400.00"}],
        },
        "synced_sale_cash": {
            **sale,
            "items": [_line("Линзы контактные, уп.", "1200.50", "1.5", 7)],
            "payments": [{"method": "cash", "amount": "1000.00"}, {"method": "card", "amount": "800.75"}],
            "buyer_contact": "+79990001122",
        },
        "undelivered_sale": {
            **sale,
            "items": [_line("Салфетка", "99.90", 3, 1, payment_subject=1, measure_unit=0)],
            "payments": [{"method": "card", "amount": "299.70"}],
        },
        "dlq_sale": {
            **sale,
            "items": [_line("Спрей для очков", "350", 1, 1)],
            "payments": [{"method": "cash", "amount": "350"}],
        },
        "rejected_sale": {
            **sale,
            "items": [_line("Цепочка для очков", "700", 1, 1)],
            "payments": [{"method": "card", "amount": "700"}],
        },
        "in_doubt_sale": {
            **sale,
            "items": [_line("Очки солнцезащитные", "4990", 1, 1)],
            "payments": [{"method": "card", "amount": "4990"}],
        },
        "waiting_sale": {
            **sale,
            "items": [_line("Шнурок", "150", 2, 1)],
            "payments": [{"method": "cash", "amount": "300"}],
        },
    }


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "buffer.db"
    for leftover in out.glob("buffer.db*"):
        leftover.unlink()
    cfg = config_mod.load(
        environ={"KKT_ADAPTER_CONFIG": str(out / "absent.toml")},
        pos_id=POS_ID,
        buffer={"path": str(db_path)},
        http={"kkt_wait_seconds": 1},
    )
    db = buffer_db.open_database(str(db_path))
    device = FakeDevice("9999000000000077", shift_open=False)
    service = FiscalService(cfg, device)
    manifest: dict[str, dict] = {}

    def sell(name: str, body: dict) -> str:
        key = str(uuid.uuid4())
        validated = receipt_request.validate(
            body,
            pos_id=POS_ID,
            taxation_system=cfg.receipt.taxation_system,
            max_items=cfg.receipt.max_items,
            max_total=cfg.receipt.max_total,
        )
        outcome = service.submit(key, body, validated)
        manifest[name] = {"key": key, "body": body, "receipt_id": outcome.body["receipt_id"]}
        return outcome.body["receipt_id"]

    day = bodies()
    for name in ("synced_sale", "synced_sale_cash", "undelivered_sale", "dlq_sale"):
        sell(name, day[name])
    refund = {
        "pos_id": POS_ID,
        "type": "refund",
        "original_receipt_id": None,  # set once the sale is delivered (the saga's rule)
        "items": [_line("Футляр", "450", 1, 11)],
        "payments": [{"method": "card", "amount": "450"}],
    }
    service.relay()  # FN documents captured for the OFD
    owner = "field-generator"
    synced = {manifest[n]["receipt_id"] for n in ("synced_sale", "synced_sale_cash")}
    for target in ("ofd", "odoo"):
        for row in deliveries.lease(target, owner, 100, 60):
            if target == "odoo" and row.receipt_id == manifest["dlq_sale"]["receipt_id"]:
                deliveries.failed_permanent(row.id, owner, "rejected: unknown product (field fixture)")
            elif row.receipt_id in synced or (target == "ofd" and row.receipt_id is None):
                ack = b"ACK-" + str(row.fd).encode() if target == "ofd" else None
                deliveries.delivered(row.id, owner, ack=ack, server_time_ms=None)
            else:
                deliveries.release([row.id], owner)
    refund["original_receipt_id"] = manifest["synced_sale"]["receipt_id"]
    day["refund"] = refund
    sell("refund", refund)
    day["correction"] = {
        "pos_id": POS_ID,
        "type": "correction",
        "correction": {"type": 0, "basis_date": "2026-12-01", "basis_number": "", "settlement": "sale"},
        "items": [_line("Ремонт оправы", "500", 1, 6, payment_subject=4)],
        "payments": [{"method": "cash", "amount": "500"}],
    }
    sell("correction", day["correction"])
    device.fail("fiscalize", KktDeviceError(0xFF46, 0x71, "bad data (field fixture)", retryable=False))
    sell("rejected_sale", day["rejected_sale"])
    device.paper = False
    sell("waiting_sale", day["waiting_sale"])  # journaled, waits for paper
    device.paper = True
    service.health.set("ok", "")
    # Signed by the FN, the answer lost, and the link gone before reconciliation could ask: in doubt.
    device.fail("fiscalize", KktTimeout("answer lost (field fixture)"), signed=True)
    device.fail("fn_status", KktLinkError("cable pulled (field fixture)"), after=1)
    sell("in_doubt_sale", day["in_doubt_sale"])
    for entry in manifest.values():
        receipt = journal.get_receipt(entry["receipt_id"])
        entry.update(fiscal_status=receipt.fiscal_status, status=receipt.status, fd_number=receipt.fd_number)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    check = sqlite3.connect(db_path)
    version = check.execute("PRAGMA user_version").fetchone()[0]
    check.close()
    (out / "fn.json").write_text(device.dumps() + "\n", encoding="utf-8")
    (out / "manifest.json").write_text(
        json.dumps({"schema_version": version, "receipts": manifest}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    states = {name: (e["fiscal_status"], e["status"]) for name, e in manifest.items()}
    print(f"buffer v{version} at {db_path}: {states}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
