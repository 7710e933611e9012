"""Buffer schema and journal rules: pragmas, upgrade path, refusing a newer schema, replay of events."""

from __future__ import annotations

import sqlite3

import peewee
import pytest

from kkt_adapter.buffer import connection, db, events, journal, schema
from tests.kit import replay

#: A one-line sale as the fiscal layer types it (fiscal/document.py typed_columns).
TYPED = {"settlement": 1, "taxation_system": 1, "cash": 0, "electronic": 100}
LINES = [
    {"name": "Футляр", "price": 100, "quantity_micro": 1_000_000, "amount": 100, "vat": 6,
     "payment_method": 4, "payment_subject": 1, "measure_unit": 0, "department": 1}
]  # fmt: skip


def _accept(key: str, request: dict, *, total: int = 100, capacity: int = 10, lines: list = LINES):
    return journal.accept_receipt(
        key, request, pos_id="t", kind="sale", total=total, capacity=capacity, typed=TYPED, lines=lines
    )


def test_durability_pragmas_and_version(tmp_path):
    conn = db.open_database(str(tmp_path / "b.db"))
    pragma = lambda name: conn.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000
    assert pragma("wal_autocheckpoint") == 100
    assert schema.current_version(conn) == schema.VERSION


def test_reopening_is_idempotent_and_keeps_data(tmp_path):
    path = str(tmp_path / "b.db")
    db.open_database(path)
    accepted = _accept("5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e", {"x": 1})
    db.open_database(path)
    assert journal.get_receipt(accepted.receipt.id).total == 100


def test_upgrade_steps_run_in_order_from_an_older_version(tmp_path, monkeypatch):
    path = str(tmp_path / "b.db")
    db.open_database(path)
    ran = []
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, lambda d: ran.append(2), lambda d: ran.append(3)])
    monkeypatch.setattr(schema, "VERSION", len(schema.STEPS))
    conn = db.open_database(path)
    assert ran == [2, 3]
    assert schema.current_version(conn) == schema.VERSION


def test_v1_database_with_receipts_upgrades_to_v2_keeping_everything(tmp_path, monkeypatch):
    path = str(tmp_path / "b.db")
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:1])
    monkeypatch.setattr(schema, "VERSION", 1)
    db.open_database(path)
    accepted = _accept("5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e", {"x": 1}, lines=[])  # v1 had no lines
    monkeypatch.undo()
    conn = db.open_database(path)
    assert schema.current_version(conn) == schema.VERSION >= 2
    assert [e.event_type for e in journal.events_for(accepted.receipt.id)] == ["receipt_added"]
    tables = {r[0] for r in conn.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"deliveries", "breaker_state", "counters"} <= tables
    assert conn.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    with connection.database.atomic("IMMEDIATE"):
        events.add_event("ofd_delivered", accepted.receipt.id)  # a v2 event type is now allowed


def test_v3_database_upgrades_to_v4_with_the_cash_journal_after_a_copy(tmp_path, monkeypatch):
    path = tmp_path / "b.db"
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:3])
    monkeypatch.setattr(schema, "VERSION", 3)
    db.open_database(str(path))
    accepted = _accept("5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e", {"x": 1})
    monkeypatch.undo()
    conn = db.open_database(str(path))
    assert schema.current_version(conn) == schema.VERSION >= 4
    assert journal.get_receipt(accepted.receipt.id).total == 100
    columns = {c.name for c in conn.get_columns("cash_operations")}
    assert {"key", "kind", "amount", "status", "number_before", "document_number_before"} <= columns
    backup = sqlite3.connect(tmp_path / "b.db.v3.bak")
    try:
        assert backup.execute("PRAGMA user_version").fetchone()[0] == 3
        tables = {r[0] for r in backup.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "cash_operations" not in tables and "receipts" in tables
    finally:
        backup.close()
    with pytest.raises(peewee.IntegrityError, match="CHECK"):
        conn.execute_sql(
            "INSERT INTO cash_operations (id, key, request_hash, document, kind, amount, status, attempts,"
            " created_at, updated_at) VALUES ('a', 'k', 'h', '{}', 'sideways', 1, 'accepted', 0, 0, 0)"
        )


def test_v4_database_upgrades_to_v5_with_the_job_columns_keeping_old_receipts(tmp_path, monkeypatch):
    path = tmp_path / "b.db"
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:4])
    monkeypatch.setattr(schema, "VERSION", 4)
    v4 = db.open_database(str(path))
    accepted = _accept("5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e", {"x": 1})
    v4.close()
    raw = sqlite3.connect(path)  # the receipts table as v4 wrote it: no job_ref, no prepayment
    raw.execute('DROP INDEX "receipts_job_ref"')
    raw.execute("ALTER TABLE receipts DROP COLUMN job_ref")
    raw.execute("ALTER TABLE receipts DROP COLUMN prepayment")
    raw.commit()
    raw.close()
    monkeypatch.undo()
    conn = db.open_database(str(path))
    assert schema.current_version(conn) == schema.VERSION >= 5
    old = journal.get_receipt(accepted.receipt.id)
    assert (old.total, old.cash, old.electronic, old.job_ref, old.prepayment) == (100, 0, 100, None, 0)
    assert [line.name for line in journal.lines_of(old.id)] == ["Футляр"]
    assert "receipts_job_ref" in {index.name for index in conn.get_indexes("receipts")}
    backup = sqlite3.connect(tmp_path / "b.db.v4.bak")
    try:
        assert backup.execute("PRAGMA user_version").fetchone()[0] == 4
        columns = {row[1] for row in backup.execute("PRAGMA table_info(receipts)")}
        assert "job_ref" not in columns and "cashier_name" in columns
    finally:
        backup.close()
    # NOT NULL DEFAULT 0: a row written without the column (an older writer's INSERT) offsets nothing.
    conn.execute_sql(
        "INSERT INTO receipts (id, pos_id, kind, created_at, hlc_local_time, hlc_logical_counter, document,"
        " total, status, fiscal_status, print_attempts, retry_count) VALUES"
        " ('r2', 't', 'sale', 0, 0, 0, '{}', 1, 'pending', 'accepted', 0, 0)"
    )
    assert journal.get_receipt("r2").prepayment == 0
    with pytest.raises(peewee.IntegrityError, match="NOT NULL"):
        conn.execute_sql("UPDATE receipts SET prepayment = NULL WHERE id = 'r2'")


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "b.db"
    db.open_database(str(path))
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    raw.close()
    with pytest.raises(schema.SchemaTooNewError):
        db.open_database(str(path))


def test_capacity_counts_undelivered_receipts(tmp_path):
    db.open_database(str(tmp_path / "b.db"))
    for i in range(3):
        _accept(f"00000000-0000-4000-8000-00000000000{i}", {"i": i}, total=1, capacity=3)
    with pytest.raises(journal.BufferFull):
        _accept("00000000-0000-4000-8000-000000000009", {}, total=1, capacity=3)
    st = journal.buffer_status(3)
    assert (st.current_queued, st.percent_full, st.not_printed) == (3, 100.0, 3)


def test_replay_follows_the_state_machine_and_refuses_impossible_histories():
    ok = ["receipt_added", "print_started", "print_unknown", "reconciled_not_printed", "print_started",
          "receipt_printed"]  # fmt: skip
    assert replay.replay_fiscal_status(ok) == "printed"
    assert replay.replay_fiscal_status(
        ["receipt_added", "print_started", "print_failed", "receipt_rejected"]
    ) == ("rejected")
    with pytest.raises(ValueError, match="impossible"):
        replay.replay_fiscal_status(["receipt_added", "receipt_printed"])  # printed without a print
    with pytest.raises(ValueError, match="impossible"):
        replay.replay_fiscal_status(["receipt_added", "print_started", "receipt_printed", "print_started"])


def test_a_buffered_answer_never_replaces_a_final_one(tmp_path):
    """Two requests with one key finish in either order: the one that gave up waiting must not overwrite
    the printed answer the other stored; a buffered answer is replaced by the final one."""
    db.open_database(str(tmp_path / "b.db"))
    _accept("k1", {"n": 1})
    printed = {"status": "printed", "receipt_id": "r", "fiscal_doc": {"fd": 7}}
    buffered = {"status": "buffered", "receipt_id": "r", "fiscal_doc": None}
    journal.store_response("k1", 200, buffered)
    assert journal.get_key("k1").response == events.dumps(buffered)
    journal.store_response("k1", 200, printed)
    journal.store_response("k1", 200, buffered)
    assert journal.get_key("k1").response == events.dumps(printed)
    _accept("k2", {"n": 2})
    rejected = {"code": "kkt_rejected", "status": 422, "receipt_id": "r2"}
    journal.store_response("k2", 422, rejected)
    journal.store_response("k2", 200, {**buffered, "receipt_id": "r2"})
    assert (journal.get_key("k2").status_code, journal.get_key("k2").response) == (
        422,
        events.dumps(rejected),
    )
