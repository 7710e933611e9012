"""Schema versioning: ``PRAGMA user_version`` holds the version; each step upgrades by one.

All steps of an upgrade and the version bump commit in one transaction: a crash (power cut, kill -9) in the
middle leaves the database exactly as it was, and the next start simply runs the upgrade again. Before a
database written by an older adapter is upgraded, a copy is taken beside it (``<name>.v<N>.bak`` with its
``.sha256``, SQLite's online backup, fsynced) so a failed release can be rolled back with the data as it was
(``kktctl restore`` accepts it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import peewee

from kkt_adapter.buffer import models
from kkt_adapter.buffer.snapshot import write_verified_copy

log = logging.getLogger(__name__)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer adapter: refuse to run rather than corrupt it."""


V1_TABLES = ("receipts", "idempotency_keys", "buffer_events", "dlq", "shifts", "kkt_state", "hlc_state")


def _v1(db: peewee.SqliteDatabase) -> None:
    """Phase 1: receipts, idempotency keys, events, DLQ, shifts, KKT and HLC state."""
    db.create_tables([m for m in models.ALL_MODELS if m._meta.table_name in V1_TABLES])
    models.HlcState.insert(id=1, wall_ms=0, logical=0).on_conflict_ignore().execute()
    models.KktState.insert(id=1).on_conflict_ignore().execute()


def _rebuild(db: peewee.SqliteDatabase, model: type[peewee.Model]) -> None:
    """SQLite cannot alter a CHECK or NOT NULL: create the table anew from the model, copy, swap.

    Only tables nothing references are rebuilt this way (buffer_events, dlq), so foreign keys stay valid.
    """
    table = model._meta.table_name
    old = f"{table}__old"
    db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for index in db.get_indexes(old):  # named indexes move with the table; the model recreates them
        if not index.name.startswith("sqlite_autoindex_"):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    db.create_tables([model])
    new_cols = {c.name for c in db.get_columns(table)}
    cols = ", ".join(f'"{c.name}"' for c in db.get_columns(old) if c.name in new_cols)
    # Names come from our own models and the database catalogue, never from input.
    db.execute_sql(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{old}"')  # noqa: S608
    db.execute_sql(f'DROP TABLE "{old}"')


def _v2(db: peewee.SqliteDatabase) -> None:
    """Phase 2: deliveries, shared breaker state, counters; new event types; DLQ for non-receipt docs."""
    db.create_tables([models.Delivery, models.BreakerState, models.Counter])
    _rebuild(db, models.BufferEvent)
    _rebuild(db, models.Dlq)


#: Receipt columns added by v3 (the typed receipt; fiscal/document.py fills them for older rows).
V3_RECEIPT_COLUMNS = (
    ("document", "TEXT"),
    ("settlement", "INTEGER"),
    ("taxation_system", "INTEGER"),
    ("cash", "INTEGER"),
    ("electronic", "INTEGER"),
    ("buyer_contact", "VARCHAR(64)"),
    ("correction_type", "INTEGER"),
    ("correction_basis_date", "VARCHAR(10)"),
    ("correction_basis_number", "VARCHAR(32)"),
    ("fiscal_document_type", "INTEGER"),
)


def _v3(db: peewee.SqliteDatabase) -> None:
    """The receipt validated once: typed columns and receipt_items instead of one JSON text.

    ``fiscal_doc`` ({"request": …, "fiscal": …}) splits into ``document`` (the request as sent) and
    ``fiscal_document_type``; the FN's answer already had its columns. The lines and the typed header of
    older receipts are filled at start-up by fiscal/document.py (they need the receipt validator, which
    lives above the buffer); until then ``settlement`` is null.
    """
    db.create_tables([models.ReceiptItem])
    columns = {c.name for c in db.get_columns("receipts")}
    if "fiscal_doc" not in columns:
        return  # created by this code's models (a new till): nothing to convert
    for name, sql_type in V3_RECEIPT_COLUMNS:
        if name not in columns:
            db.execute_sql(f'ALTER TABLE receipts ADD COLUMN "{name}" {sql_type}')
    db.execute_sql(
        "UPDATE receipts SET document = json_extract(fiscal_doc, '$.request'), "
        "fiscal_document_type = json_extract(fiscal_doc, '$.fiscal.document_type')"
    )
    if db.execute_sql("SELECT count(*) FROM receipts WHERE document IS NULL").fetchone()[0]:
        raise RuntimeError("v3 upgrade: a receipt has no request in fiscal_doc; rolled back")
    db.execute_sql("ALTER TABLE receipts DROP COLUMN fiscal_doc")


#: Receipt columns added by v4: the cashier (FFD 1021 / 1203), printed again from the columns like the rest.
V4_RECEIPT_COLUMNS = (
    ("cashier_name", "VARCHAR(64)"),
    ("cashier_inn", "VARCHAR(12)"),
)


def _v4(db: peewee.SqliteDatabase) -> None:
    """Cash in / cash out: ``cash_operations``, journaled before the KKT hears of one (fiscal/cash.py);
    the receipt's cashier columns (null on older receipts: they were sent without one)."""
    db.create_tables([models.CashOperation])
    columns = {c.name for c in db.get_columns("receipts")}
    for name, sql_type in V4_RECEIPT_COLUMNS:
        if name not in columns:  # a receipts table created by this code's models has them already
            db.execute_sql(f'ALTER TABLE receipts ADD COLUMN "{name}" {sql_type}')


#: Receipt columns added by v5: the glasses job (FFD 1192) and the advance offset (FFD 1215, kopecks).
V5_RECEIPT_COLUMNS = (
    ("job_ref", "VARCHAR(16)"),
    ("prepayment", "INTEGER NOT NULL DEFAULT 0"),
)


def _v5(db: peewee.SqliteDatabase) -> None:
    """Glasses-job advances: the receipt's ``job_ref`` (indexed: the journal sums a job's advances and
    offsets when it accepts an offset) and ``prepayment``; older receipts name no job and offset nothing."""
    columns = {c.name for c in db.get_columns("receipts")}
    for name, sql_type in V5_RECEIPT_COLUMNS:
        if name not in columns:  # a receipts table created by this code's models has them already
            db.execute_sql(f'ALTER TABLE receipts ADD COLUMN "{name}" {sql_type}')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "receipts_job_ref" ON "receipts" ("job_ref")')


def _v6(db: peewee.SqliteDatabase) -> None:
    """Re-delivery to Odoo (buffer/redelivery.py): the event type ``odoo_redelivery_queued`` (the events'
    CHECK is rebuilt) and the index the heartbeat's fiscal check reads an FN's recent deliveries by."""
    _rebuild(db, models.BufferEvent)
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "deliveries_target_fn_number_delivered_at" '
        'ON "deliveries" ("target", "fn_number", "delivered_at")'
    )


#: Upgrade steps in order; step ``i`` brings the schema from version ``i`` to ``i + 1``.
STEPS: list[Callable[[peewee.SqliteDatabase], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]
VERSION = len(STEPS)


def current_version(db: peewee.SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def backup_before_upgrade(db: peewee.SqliteDatabase, version: int) -> Path | None:
    """Copy the database (version ``version``) to ``<name>.v<version>.bak`` before upgrading it.

    A copy left by an upgrade that crashed is replaced: the database it came from was left unchanged.
    """
    if db.database == ":memory:":
        return None
    target = Path(db.database).with_name(f"{Path(db.database).name}.v{version}.bak")
    write_verified_copy(db.connection(), target)  # the same verified copy as kktctl backup's
    log.warning("buffer schema v%d -> v%d: copy taken at %s", version, VERSION, target)
    return target


def migrate(db: peewee.SqliteDatabase) -> int:
    """Bring the database to ``VERSION``; all steps and the version bump commit atomically."""
    version = current_version(db)
    if 0 < version < VERSION:
        backup_before_upgrade(db, version)
    with db.atomic("IMMEDIATE"):
        version = current_version(db)
        if version > VERSION:
            raise SchemaTooNewError(f"buffer schema v{version} is newer than this adapter (v{VERSION})")
        for step in STEPS[version:]:
            step(db)
            version += 1
            db.execute_sql(f"PRAGMA user_version = {version}")
        if db.execute_sql("PRAGMA foreign_key_check").fetchall():
            raise RuntimeError("foreign key violations after the schema upgrade: rolled back")
    return version
