"""Opening the buffer database with the durability settings every process on the till must share."""

from __future__ import annotations

from pathlib import Path

import peewee

#: The one database handle of this process; bound with ``open_database``. Peewee keeps one connection
#: per thread, which is what gunicorn's threads and the background workers need.
database = peewee.DatabaseProxy()


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
    path: str, busy_timeout_ms: int = 5000, wal_autocheckpoint_pages: int = 100
) -> peewee.SqliteDatabase:
    """Open (creating directories if needed), apply the pragmas, bind the proxy, run migrations."""
    from kkt_adapter.buffer import schema  # late import: schema imports the models bound to the proxy

    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = peewee.SqliteDatabase(path, pragmas=pragmas(busy_timeout_ms, wal_autocheckpoint_pages))
    database.initialize(db)
    db.connect(reuse_if_open=True)
    schema.migrate(db)
    return db


def checkpoint(mode: str = "PASSIVE") -> tuple[int, int, int]:
    """Run ``PRAGMA wal_checkpoint(mode)``; returns (busy, wal pages, checkpointed pages)."""
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(mode)
    row = database.execute_sql(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return tuple(row)  # type: ignore[return-value]
