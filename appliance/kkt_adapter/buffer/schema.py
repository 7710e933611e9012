"""Schema versioning: ``PRAGMA user_version`` holds the version; each step upgrades by one."""

from __future__ import annotations

from collections.abc import Callable

import peewee

from kkt_adapter.buffer import models


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


#: Upgrade steps in order; step ``i`` brings the schema from version ``i`` to ``i + 1``.
STEPS: list[Callable[[peewee.SqliteDatabase], None]] = [_v1, _v2]
VERSION = len(STEPS)


def current_version(db: peewee.SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate(db: peewee.SqliteDatabase) -> int:
    """Bring the database to ``VERSION``; all steps and the version bump commit atomically."""
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
