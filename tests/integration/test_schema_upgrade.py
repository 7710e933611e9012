"""Tills in the field keep their data: a buffer written by the released adapter (schema v2) upgrades on start.

The fixture (tests/fixtures/field-buffer-v2, built by tests/kit/field_buffer.py with the released code)
holds receipts in every state, undelivered OFD and Odoo legs, acknowledgments not yet applied, a DLQ entry
and stored idempotent answers, with the FN's journal beside it. The current code must: take a copy first,
upgrade in one transaction (a kill -9 in the middle leaves v2 untouched and the next start upgrades),
keep every row, type every receipt from its stored request, and then settle the receipt in doubt from
the FN, print the one waiting, and deliver everything to the real stand-ins exactly once.
"""

from __future__ import annotations

import collections
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kkt_adapter import backup as backup_mod
from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import deliveries, journal, schema
from kkt_adapter.config import ReceiptConfig
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.document import fiscal_receipt, type_stored_receipts
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.sync.clients import OdooClient
from kkt_adapter.sync.runner import SyncRunner
from kkt_adapter.sync.targets import odoo_receipt
from tests.kit import child_env
from tests.kit.fake_device import FakeDevice

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "field-buffer-v2"
POS_ID = "field-till"
TOKEN = "field-token"
TABLES = ("receipts", "idempotency_keys", "buffer_events", "deliveries", "dlq", "shifts", "counters")


@pytest.fixture
def field(tmp_path) -> Path:
    copy = tmp_path / "field"
    shutil.copytree(FIXTURE, copy)
    return copy


def _manifest(field: Path) -> dict:
    return json.loads((field / "manifest.json").read_text(encoding="utf-8"))


def _rows(path: Path, table: str, columns: str = "*") -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)  # noqa: S608
    finally:
        conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _validated(body: dict):
    return receipt_request.validate(body, pos_id=POS_ID, taxation_system=1, max_items=100, max_total=10**9)


def _run_killed(script: str, field: Path) -> int:
    """Run ``script`` (Python) in a child with the buffer path in argv; it kills itself with SIGKILL."""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(field / "buffer.db")],
        env=child_env(),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    return proc.returncode


def test_the_fixture_is_a_released_v2_buffer_with_every_state():
    manifest = _manifest(FIXTURE)
    assert manifest["schema_version"] == _version(FIXTURE / "buffer.db") == 2
    states = {(e["fiscal_status"], e["status"]) for e in manifest["receipts"].values()}
    assert {("printed", "synced"), ("printed", "pending"), ("printed", "failed"), ("rejected", "pending"),
            ("accepted", "pending"), ("printing", "pending")} <= states  # fmt: skip
    assert _rows(FIXTURE / "buffer.db", "dlq", "count(*)") == [(1,)]


def test_a_kill_in_the_middle_of_the_upgrade_leaves_v2_and_the_next_start_upgrades(field):
    db_path = field / "buffer.db"
    before = {table: _rows(db_path, table) for table in TABLES}
    # Killed after every statement of the v3 step ran, before its COMMIT.
    _run_killed(
        "import os, signal, sys\n"
        "from kkt_adapter.buffer import db, schema\n"
        "real = schema.STEPS[2]\n"
        "def step(conn):\n"
        "    real(conn)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "schema.STEPS[2] = step\n"
        "db.open_database(sys.argv[1])\n",
        field,
    )
    assert _version(db_path) == 2
    assert {table: _rows(db_path, table) for table in TABLES} == before
    assert (field / "buffer.db.v2.bak").exists()  # taken before the transaction began
    conn = buffer_db.open_database(str(db_path))
    try:
        assert schema.current_version(conn) == schema.VERSION
        assert {c.name for c in conn.get_columns("receipts")} >= {
            "document",
            "settlement",
            "fiscal_document_type",
        }
        assert "fiscal_doc" not in {c.name for c in conn.get_columns("receipts")}
    finally:
        conn.close()
    backup = field / "buffer.db.v2.bak"
    assert _version(backup) == 2 and _rows(backup, "receipts") == before["receipts"]
    checked = backup_mod.verify_snapshot(backup)  # what `kktctl restore --check` runs: restorable
    assert checked.schema_version == 2 and checked.integrity == "ok"


def test_typing_killed_half_way_resumes_without_duplicate_lines(field):
    _run_killed(
        "import os, signal, sys\n"
        "from kkt_adapter import config\n"
        "from kkt_adapter.buffer import db, journal\n"
        "from kkt_adapter.fiscal import document\n"
        "db.open_database(sys.argv[1])\n"
        "real, done = journal.store_typed, []\n"
        "def store(*args):\n"
        "    if len(done) == 3:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    done.append(real(*args))\n"
        "    return done[-1]\n"
        "journal.store_typed = store\n"
        "document.type_stored_receipts(config.ReceiptConfig())\n",
        field,
    )
    conn = buffer_db.open_database(str(field / "buffer.db"))
    try:
        assert len(journal.untyped_receipts()) == len(_manifest(field)["receipts"]) - 3
        assert type_stored_receipts(ReceiptConfig()) == len(_manifest(field)["receipts"]) - 3
        assert journal.untyped_receipts() == []
        lines = _rows(field / "buffer.db", "receipt_items", "receipt_id, position")
        assert len(lines) == len(set(lines))
    finally:
        conn.close()


@pytest.fixture
def standins(standins_factory):
    return standins_factory(POS_ID, TOKEN)


def test_a_field_buffer_upgrades_keeps_everything_and_delivers_it_once(field, make_cfg, standins):
    ofd, odoo = standins
    manifest = _manifest(field)["receipts"]
    db_path = field / "buffer.db"
    before = {table: _rows(db_path, table) for table in TABLES}
    cfg = make_cfg(
        pos_id=POS_ID,
        buffer={"path": str(db_path)},
        ofd={"url": ofd.url, "timeout_seconds": 2.0},
        odoo={"url": odoo.url, "token": TOKEN, "timeout_seconds": 2.0},
        http={"kkt_wait_seconds": 1},
    )
    conn = buffer_db.open_database(str(db_path))
    try:
        # Every row is kept (receipts change shape: compared by their kept columns).
        for table in TABLES[1:]:
            assert _rows(db_path, table) == before[table], table
        kept = "id, kind, total, status, fiscal_status, fn_number, fd_number, fiscal_sign, hlc_local_time"
        assert _rows(db_path, "receipts", kept) == _rows(field / "buffer.db.v2.bak", "receipts", kept)
        # The request as sent and the FN's document type moved out of the old JSON column.
        assert type_stored_receipts(cfg.receipt) == len(manifest)
        for name, entry in manifest.items():
            receipt = journal.get_receipt(entry["receipt_id"])
            assert json.loads(receipt.document) == entry["body"], name
            expected = _validated(entry["body"]).fiscal
            printed = fiscal_receipt(receipt, cfg.receipt)
            assert (printed.kind, printed.items, printed.cash, printed.electronic, printed.buyer_contact) == (
                expected.kind, expected.items, expected.cash, expected.electronic, expected.buyer_contact
            ), name  # fmt: skip
            if expected.correction is not None:
                assert printed.correction == expected.correction
            if receipt.fiscal_status == "printed":
                assert receipt.fiscal_document_type in (3, 31), name
        assert manifest["correction"]["fiscal_status"] == "printed"
        assert journal.get_receipt(manifest["correction"]["receipt_id"]).fiscal_document_type == 31

        # A retry of a key answered by the released code gets its stored answer back, byte for byte.
        sale = manifest["synced_sale"]
        device = FakeDevice.loads((field / "fn.json").read_text(encoding="utf-8"))
        service = FiscalService(cfg, device)
        replay = service.submit(sale["key"], sale["body"], _validated(sale["body"]))
        stored = journal.get_key(sale["key"])
        assert replay.stored == (stored.status_code, json.loads(stored.response))
        assert replay.stored[1]["fiscal_doc"]["fd_number"] == sale["fd_number"]

        # The receipt in doubt is found in the FN (signed once), the waiting one prints, the rejected stays.
        signed_before = len(device.receipts())
        service.reconcile()
        in_doubt = journal.get_receipt(manifest["in_doubt_sale"]["receipt_id"])
        assert in_doubt.fiscal_status == "printed" and in_doubt.fd_number is not None
        assert journal.get_receipt(manifest["waiting_sale"]["receipt_id"]).fiscal_status == "printed"
        assert journal.get_receipt(manifest["rejected_sale"]["receipt_id"]).fiscal_status == "rejected"
        assert len(device.receipts()) == signed_before + 1  # only the waiting one was printed now
        per_receipt = collections.Counter(d.text for d in device.receipts())
        assert all(n == 1 for n in per_receipt.values()), per_receipt

        # Odoo already holds what the released code delivered before the upgrade (the refund's original).
        synced_earlier = {manifest[n]["receipt_id"] for n in ("synced_sale", "synced_sale_cash")}
        earlier = [odoo_receipt(journal.get_receipt(rid)) for rid in sorted(synced_earlier)]
        assert all(r.ok for r in OdooClient(odoo.url, 2.0, TOKEN).send(POS_ID, earlier).items.values())

        # Everything delivers: the DLQ entry once its cause is fixed, the rest as it is.
        [dlq] = deliveries.dlq_list()
        deliveries.dlq_retry(dlq.id, "upgrade-test")
        service.relay()
        for _ in range(5):
            SyncRunner(cfg).run()
            service.relay()  # acknowledgments back into the FN
            if not deliveries.due_count():
                break
        statuses = {r.id: (r.fiscal_status, r.status) for r in journal.list_receipts(100, None, None)}
        printed_ids = {rid for rid, (fiscal, _) in statuses.items() if fiscal == "printed"}
        unsynced = {rid: statuses[rid][1] for rid in printed_ids if statuses[rid][1] != "synced"}
        legs = [
            (d.target, d.status, d.last_error)
            for d in deliveries.Delivery.select()
            if d.receipt_id in unsynced
        ]
        assert unsynced == {}, legs
        ofd_docs = [(d["fn_number"], d["fd"]) for d in ofd.control.documents()]
        assert len(ofd_docs) == len(set(ofd_docs))
        backup = field / "buffer.db.v2.bak"
        earlier = {
            fd for (fd,) in _rows(backup, "deliveries WHERE target = 'ofd' AND status = 'delivered'", "fd")
        }
        assert {fd for _, fd in ofd_docs} == {d.fd for d in device.documents} - earlier
        odoo_ids = collections.Counter(r["receipt_id"] for r in odoo.control.receipts())
        assert all(n == 1 for n in odoo_ids.values()), odoo_ids
        assert set(odoo_ids) == printed_ids
        assert device.unconfirmed_count() == 0  # every acknowledgment reached the FN
    finally:
        conn.close()
