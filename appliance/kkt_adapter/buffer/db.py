"""Opening the buffer database with the durability settings every process on the till must share."""

from __future__ import annotations

from pathlib import Path

import peewee

from kkt_adapter.buffer import schema, storage
from kkt_adapter.buffer.connection import database


def pragmas(busy_timeout_ms: int, wal_autocheckpoint_pages: int) -> dict[str, object]:
    return {
        # WAL: readers never block the writer, and a crash leaves the database consistent.
        "journal_mode": "wal",
        # FULL: the WAL is fsync'ed at every commit, so an acknowledged receipt survives a power cut.
        "synchronous": "full",
        "foreign_keys": 1,
        # Other processes (sync, backup, kktctl) write too; wait for their lock instead of failing.
        "busy_timeout": busy_timeout_ms,
        "wal_autocheckpoint": wal_autocheckpoint_pages,
        # 16 MiB page cache: the whole working set of a till, small next to the appliance's RAM.
        "cache_size": -16000,
    }


def open_database(
    path: str, busy_timeout_ms: int = 5000, wal_autocheckpoint_pages: int = 100, reserve_bytes: int = 0
) -> peewee.SqliteDatabase:
    """Open (creating directories if needed), apply the pragmas, bind the proxy, run migrations.

    ``reserve_bytes`` > 0 installs the disk-full reserve beside the database (``storage.Reserve``); when
    the disk already has less room than that, the reserve is released first so the database can open.
    """
    reserve = None
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if reserve_bytes:
            reserve = storage.Reserve(Path(path).parent, reserve_bytes)
            reserve.release_if_low()
    storage.install(reserve)
    db = peewee.SqliteDatabase(path, pragmas=pragmas(busy_timeout_ms, wal_autocheckpoint_pages))
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        schema.migrate(db)
    except peewee.OperationalError as exc:
        # A full disk shows here as "disk I/O error" (the WAL index cannot be created), not SQLITE_FULL.
        full = storage.preflight(path) if path != ":memory:" else None
        if full is not None or storage.is_disk_full(exc):
            raise full or storage.full_error(exc, "the journal cannot be opened") from exc
        raise
    return db


def checkpoint(mode: str = "PASSIVE") -> tuple[int, int, int]:
    """Run ``PRAGMA wal_checkpoint(mode)``; returns (busy, wal pages, checkpointed pages)."""
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(mode)
    row = database.execute_sql(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return tuple(row)  # type: ignore[return-value]
