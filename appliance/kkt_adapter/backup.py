"""Snapshots of the buffer database: take (``kktctl backup``), verify and restore (``kktctl restore``).

This module works on the database *file*, never on the journal's tables: ``PRAGMA wal_checkpoint``,
``PRAGMA integrity_check``, ``PRAGMA user_version`` and SQLite's online backup API, all through the stdlib
``sqlite3`` module. The buffer package stays the only code that reads or writes journal rows; restore
asks it (``journal.list_receipts``) whether the file it is about to replace holds receipts.

A snapshot is ``DIR/buffer-YYYYmmddTHHMMSSZ.db`` (UTC; ``-2``, ``-3``… if that second is taken) with
``buffer-….db.sha256`` beside it in ``sha256sum`` format. It is a single self-contained file in rollback
journal mode (no ``-wal`` to lose), written as a temporary file, fsync'ed, checked with
``integrity_check``, then renamed into place; the checksum file is renamed in first, so a visible snapshot
always has its checksum. The online backup copies one consistent read snapshot in a single step while the
adapter keeps writing (WAL readers never block the writer).

Restore verifies the checksum and the integrity of the snapshot, refuses to replace a healthy journal that
holds receipts unless forced, keeps the old file as ``buffer.db.before-restore`` (its WAL, if any, as
``buffer.db.before-restore-wal``) and swaps the copy in with an atomic rename. The caller makes sure the
adapter is stopped (``kktctl restore`` refuses while it answers); the host lock keeps sync runs out.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kkt_adapter.buffer.snapshot import (
    CHECKSUM_SUFFIX,
    FILE_MODE,
    TMP_PREFIX,
    DamagedCopy,
    integrity,
    sha256_of,
    write_verified_copy,
)
from kkt_adapter.buffer.snapshot import connect_readonly as _connect_readonly
from kkt_adapter.osutil import fsync_path, pid_alive

SNAPSHOT_RE = re.compile(r"^buffer-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<seq>\d+))?\.db$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
BEFORE_RESTORE_SUFFIX = ".before-restore"
DIR_MODE = 0o750


class BackupError(Exception):
    """A snapshot could not be taken, verified or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    taken_at: datetime
    seq: int = 1

    @property
    def checksum_path(self) -> Path:
        return self.path.with_name(self.path.name + CHECKSUM_SUFFIX)


@dataclass
class BackupReport:
    snapshot: str
    checksum_file: str
    sha256: str
    size_bytes: int
    checkpoint: dict[str, int]
    integrity: str
    keep_days: int
    removed: list[str] = field(default_factory=list)
    kept: int = 0
    duration_seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class VerifyReport:
    snapshot: str
    sha256: str
    integrity: str
    schema_version: int
    size_bytes: int
    # What the journal in the snapshot last learned from the FN: compare with `kktctl fn-status` after a
    # restore — a larger FD on the FN means documents signed after the snapshot.
    fn_number: str | None = None
    last_fd_seen: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class RestoreReport:
    snapshot: str
    restored_to: str
    sha256: str
    schema_version: int
    before_restore: str | None
    previous_state: str  # missing | corrupt | empty | has_receipts (the latter only with force)
    fn_number: str | None = None
    last_fd_seen: int | None = None
    duration_seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# --- file helpers --------------------------------------------------------------------------------------


def _connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open an existing database read-write (``mode=rw`` never creates an empty file by mistake)."""
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


def wal_bytes(db_path: str | Path) -> int:
    """Size of the database's ``-wal`` file (0 when there is none)."""
    wal = Path(f"{db_path}-wal")
    try:
        return wal.stat().st_size
    except FileNotFoundError:
        return 0


def checkpoint_file(path: str | Path, mode: str = "TRUNCATE", busy_timeout_ms: int = 5000) -> dict[str, int]:
    """``PRAGMA wal_checkpoint(mode)`` on a database file from this process (no schema upgrade).

    Returns ``busy`` (1 when another connection kept the checkpoint from completing) and the size of the
    WAL file before and after (SQLite's own page counts read 0 after a successful TRUNCATE, so the file
    sizes are what tells an operator how much was folded in). Used by ``kktctl backup`` and by
    ``kktctl drain`` when the adapter is down.
    """
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(mode)
    path = Path(path)
    if not path.exists():
        raise BackupError(f"no buffer database at {path}")
    before = wal_bytes(path)
    try:
        conn = _connect(path, busy_timeout_ms)
        try:
            busy = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"checkpoint of {path} failed: {exc}") from None
    return {"busy": busy, "wal_bytes_before": before, "wal_bytes_after": wal_bytes(path)}


# --- listing and retention -----------------------------------------------------------------------------


def parse_snapshot(path: Path) -> Snapshot | None:
    match = SNAPSHOT_RE.match(path.name)
    if not match:
        return None
    taken = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    return Snapshot(path, taken, int(match["seq"] or 1))


def list_snapshots(dest: str | Path) -> list[Snapshot]:
    """Snapshots in ``dest``, oldest first (by the time in their name, not the file's mtime)."""
    folder = Path(dest)
    if not folder.is_dir():
        return []
    found = [s for s in (parse_snapshot(p) for p in folder.iterdir() if p.is_file()) if s is not None]
    return sorted(found, key=lambda s: (s.taken_at, s.seq))


def prune(dest: str | Path, keep_days: int, now: datetime | None = None) -> tuple[list[Path], int]:
    """Delete snapshots older than ``keep_days`` (and their checksum files); never the newest one.

    Returns (removed snapshot paths, snapshots kept).
    """
    now = now or datetime.now(UTC)
    snapshots = list_snapshots(dest)
    removed: list[Path] = []
    for snap in snapshots[:-1]:  # the newest survives whatever its age: a till must keep one snapshot
        if now - snap.taken_at > timedelta(days=keep_days):
            snap.checksum_path.unlink(missing_ok=True)
            snap.path.unlink(missing_ok=True)
            removed.append(snap.path)
    if removed:
        fsync_path(Path(dest))
    return removed, len(snapshots) - len(removed)


def _remove_stale_temporaries(dest: Path) -> None:
    """Temporary files of a backup that was killed (power loss) are garbage: remove them, but never those
    of a backup still running (their name carries its pid)."""
    for leftover in dest.glob(f"{TMP_PREFIX}*"):
        pid = leftover.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            leftover.unlink()


def _snapshot_path(dest: Path, now: datetime) -> Path:
    stamp = now.strftime(STAMP_FORMAT)
    path = dest / f"buffer-{stamp}.db"
    seq = 1
    while path.exists() or path.with_name(path.name + CHECKSUM_SUFFIX).exists():
        seq += 1
        path = dest / f"buffer-{stamp}-{seq}.db"
    return path


# --- backup --------------------------------------------------------------------------------------------


def take_snapshot(
    db_path: str | Path,
    dest: str | Path,
    keep_days: int = 7,
    *,
    busy_timeout_ms: int = 5000,
    now: datetime | None = None,
) -> BackupReport:
    """Checkpoint the WAL (TRUNCATE), copy the database with the online backup API, verify, prune."""
    if keep_days < 1:
        raise BackupError(f"keep_days must be at least 1, got {keep_days}")
    started = time.monotonic()
    source_path = Path(db_path)
    folder = Path(dest)
    if not source_path.exists():
        raise BackupError(f"no buffer database at {source_path}")
    try:
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup directory {folder}: {exc}") from None
    _remove_stale_temporaries(folder)
    now = now or datetime.now(UTC)
    final = _snapshot_path(folder, now)
    try:
        # Fold the WAL into the main file first: the copy then reads one file and the WAL stays small.
        # A reader of the adapter can keep the checkpoint from finishing (busy=1); the copy is still
        # consistent, because the backup API reads through the WAL like any other connection.
        checkpoint = checkpoint_file(source_path, "TRUNCATE", busy_timeout_ms)
        source = _connect(source_path, busy_timeout_ms)
        try:
            digest = write_verified_copy(source, final)
        finally:
            source.close()
    except DamagedCopy as exc:
        raise BackupError(f"the copy failed PRAGMA integrity_check: {exc}") from None
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source_path} failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"writing the snapshot to {folder} failed: {exc}") from None
    removed, kept = prune(folder, keep_days, now)
    return BackupReport(
        snapshot=str(final),
        checksum_file=str(final.with_name(final.name + CHECKSUM_SUFFIX)),
        sha256=digest,
        size_bytes=final.stat().st_size,
        checkpoint=checkpoint,
        integrity="ok",
        keep_days=keep_days,
        removed=[str(p) for p in removed],
        kept=kept,
        duration_seconds=round(time.monotonic() - started, 3),
    )


# --- verify and restore --------------------------------------------------------------------------------


def read_checksum(snapshot: Path) -> str:
    sidecar = snapshot.with_name(snapshot.name + CHECKSUM_SUFFIX)
    try:
        text = sidecar.read_text(encoding="ascii").split()
    except FileNotFoundError:
        raise BackupError(f"no checksum file {sidecar}: the snapshot cannot be trusted") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"cannot read {sidecar}: {exc}") from None
    if not text or not re.fullmatch(r"[0-9a-f]{64}", text[0]):
        raise BackupError(f"{sidecar} does not hold a SHA-256 checksum")
    return text[0]


def verify_snapshot(snapshot: str | Path) -> VerifyReport:
    """Checksum against the ``.sha256`` beside it, ``integrity_check``, schema not newer than ours."""
    from kkt_adapter.buffer.schema import VERSION

    path = Path(snapshot)
    if not path.is_file():
        raise BackupError(f"no snapshot at {path}")
    expected = read_checksum(path)
    actual = sha256_of(path)
    if actual != expected:
        raise BackupError(
            f"checksum mismatch for {path}: expected {expected}, file has {actual}; "
            "the snapshot is damaged — take an older one"
        )
    try:
        conn = _connect_readonly(path)
        try:
            result = integrity(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{path} failed PRAGMA integrity_check: {result}")
    if version > VERSION:
        raise BackupError(
            f"{path} has buffer schema v{version}, newer than this adapter (v{VERSION}): upgrade first"
        )
    fn_number, last_fd = _fn_seen(path)
    return VerifyReport(str(path), actual, result, version, path.stat().st_size, fn_number, last_fd)


def _fn_seen(snapshot: Path) -> tuple[str | None, int | None]:
    """FN number and last FD the snapshot's journal recorded, read by the buffer package from a
    throwaway copy (opening a journal upgrades its schema and switches it to WAL: never the snapshot)."""
    from kkt_adapter.buffer import db as buffer_db
    from kkt_adapter.buffer import journal

    with tempfile.TemporaryDirectory(prefix="kkt-restore-") as scratch:
        copy = Path(scratch) / "buffer.db"
        shutil.copyfile(snapshot, copy)
        handle = buffer_db.open_database(str(copy))
        try:
            state = journal.kkt_state()
            return state.fn_number, state.last_fd_seen
        finally:
            handle.close()


def _current_state(db_path: Path, busy_timeout_ms: int) -> str:
    """missing | corrupt | empty | has_receipts — what restoring over ``db_path`` would replace."""
    if not db_path.exists():
        return "missing"
    try:
        conn = _connect(db_path, busy_timeout_ms)
        try:
            healthy = integrity(conn) == "ok"
            if healthy:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the kept copy becomes one file
        finally:
            conn.close()
    except sqlite3.Error:
        return "corrupt"
    if not healthy:
        return "corrupt"
    from kkt_adapter.buffer import db as buffer_db
    from kkt_adapter.buffer import journal

    try:
        handle = buffer_db.open_database(str(db_path), busy_timeout_ms)
    except Exception:  # noqa: BLE001 - any failure to open as a journal means "not a usable journal"
        return "corrupt"
    try:
        return "has_receipts" if journal.list_receipts(1) else "empty"
    finally:
        handle.close()


def _match_owner(path: Path, like: Path) -> None:
    """When run as root, hand the restored file to the owner of the state directory (user kkt)."""
    if os.geteuid() == 0:
        st = like.stat()
        os.chown(path, st.st_uid, st.st_gid)


def restore(
    snapshot: str | Path,
    db_path: str | Path,
    *,
    force: bool = False,
    lock_path: str | None = None,
    busy_timeout_ms: int = 5000,
) -> RestoreReport:
    """Put a verified snapshot in place of ``db_path``; the adapter must be stopped (the caller checks)."""
    from kkt_adapter.sync.lock import HostLock, SyncBusy

    started = time.monotonic()
    checked = verify_snapshot(snapshot)
    target = Path(db_path)
    before = target.with_name(target.name + BEFORE_RESTORE_SUFFIX)
    if before.exists():
        raise BackupError(
            f"{before} exists from an earlier restore; move it somewhere safe first (it is never overwritten)"
        )
    lock = HostLock(lock_path) if lock_path else None
    try:
        if lock is not None:
            lock.acquire()
    except SyncBusy:
        raise BackupError("a sync run is using the buffer; stop kkt-sync.timer and try again") from None
    try:
        target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        state = _current_state(target, busy_timeout_ms)
        if state == "has_receipts" and not force:
            raise BackupError(
                f"{target} is healthy and holds receipts: restoring would drop every receipt journaled "
                "after the snapshot. Re-run with --force only if that is intended "
                f"(the current file is kept as {before.name})"
            )
        tmp = target.with_name(f"{TMP_PREFIX}{os.getpid()}-{target.name}")
        try:
            with open(checked.snapshot, "rb") as src, open(tmp, "wb") as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if sha256_of(tmp) != checked.sha256:
                raise BackupError(f"the copy at {tmp} does not match the snapshot's checksum (disk error?)")
            os.chmod(tmp, FILE_MODE)
            _match_owner(tmp, target.parent)
            kept = None
            if target.exists():
                os.link(target, before)  # the old journal stays reachable under its new name
                kept = str(before)
            for suffix in ("-wal", "-journal"):  # left beside the restored file, either would be
                side = target.with_name(target.name + suffix)  # replayed into it: move it with the old one
                if side.exists():
                    os.replace(side, before.with_name(before.name + suffix))
            target.with_name(target.name + "-shm").unlink(missing_ok=True)  # derived; rebuilt on open
            os.replace(tmp, target)
            fsync_path(target.parent)
        except OSError as exc:
            raise BackupError(f"restoring into {target} failed: {exc}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    finally:
        if lock is not None:
            lock.release()
    return RestoreReport(
        snapshot=checked.snapshot,
        restored_to=str(target),
        sha256=checked.sha256,
        schema_version=checked.schema_version,
        before_restore=kept,
        previous_state=state,
        fn_number=checked.fn_number,
        last_fd_seen=checked.last_fd_seen,
        duration_seconds=round(time.monotonic() - started, 3),
    )
