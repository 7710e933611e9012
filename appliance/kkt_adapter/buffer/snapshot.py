"""Verified copies of the buffer database, written one way for every caller.

SQLite's online backup into a temporary file beside the target, switched to a single file (rollback
journal), ``PRAGMA integrity_check``-ed, fsynced; then a checksum in ``sha256sum`` format is renamed in
*first*, so a visible copy always has its checksum (``kktctl restore`` trusts no other). Used by the
scheduled snapshots (``backup.take_snapshot``) and by the copy a schema upgrade takes first
(``schema.backup_before_upgrade``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

from kkt_adapter.osutil import fsync_path

CHECKSUM_SUFFIX = ".sha256"
#: Prefix of a copy being written (the writer's pid follows): a crashed writer's leftovers are garbage.
TMP_PREFIX = ".tmp-"
#: Mode of copies and restored files: the kkt user and its group (operators in group kkt) only.
FILE_MODE = 0o640


class DamagedCopy(Exception):
    """The copy failed ``PRAGMA integrity_check`` (the message says how); nothing was put in place."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a copy without creating any ``-wal``/``-shm``/``-journal`` file next to it."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def integrity(conn: sqlite3.Connection) -> str:
    """``ok`` or the first problems ``PRAGMA integrity_check`` reports."""
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(10)").fetchall()]
    return "ok" if rows == ["ok"] else "; ".join(rows)


def write_verified_copy(source: sqlite3.Connection, final: Path) -> str:
    """Copy ``source`` to ``final`` (+ its ``.sha256``) as described above; returns the sha256.

    Raises ``DamagedCopy``, ``sqlite3.Error`` or ``OSError`` with nothing left behind.
    """
    tmp = final.with_name(f"{TMP_PREFIX}{os.getpid()}-{final.name}")
    checksum = final.with_name(final.name + CHECKSUM_SUFFIX)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)  # pages=-1: one step, one read transaction, one consistent state
            target.execute("PRAGMA journal_mode=DELETE")  # a single file: nothing beside it to lose
        finally:
            target.close()
        os.chmod(tmp, FILE_MODE)
        fsync_path(tmp)
        check = connect_readonly(tmp)
        try:
            result = integrity(check)
        finally:
            check.close()
        if result != "ok":
            raise DamagedCopy(result)
        digest = sha256_of(tmp)
        write_atomically(checksum, f"{digest}  {final.name}\n".encode())
        os.replace(tmp, final)
        fsync_path(final.parent)
        return digest
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if not final.exists():  # failed after the checksum was written: leave no orphan behind
            checksum.unlink(missing_ok=True)
