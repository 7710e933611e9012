"""Schema versioning: ``PRAGMA user_version`` holds the version; each step upgrades by one."""

from __future__ import annotations

from collections.abc import Callable

import peewee

from kkt_adapter.buffer import models


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer adapter: refuse to run rather than corrupt it."""


def _v1(db: peewee.SqliteDatabase) -> None:
    db.create_tables(models.ALL_MODELS)
    models.HlcState.insert(id=1, wall_ms=0, logical=0).on_conflict_ignore().execute()
    models.KktState.insert(id=1).on_conflict_ignore().execute()


#: Upgrade steps in order; step ``i`` brings the schema from version ``i`` to ``i + 1``.
STEPS: list[Callable[[peewee.SqliteDatabase], None]] = [_v1]
VERSION = len(STEPS)


def current_version(db: peewee.SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate(db: peewee.SqliteDatabase) -> int:
    """Bring the database to ``VERSION``; each step and its version bump commit atomically."""
    with db.atomic("IMMEDIATE"):
        version = current_version(db)
        if version > VERSION:
            raise SchemaTooNewError(f"buffer schema v{version} is newer than this adapter (v{VERSION})")
        for step in STEPS[version:]:
            step(db)
            version += 1
            db.execute_sql(f"PRAGMA user_version = {version}")
    return version
