"""Disk-full protection of the buffer: free space, the reserve (ballast) file, and SQLITE_FULL as one error.

A full disk must never turn an acknowledged receipt into a lost one, nor a receipt the FN signed into an
error a POS would re-ring under a new key. The remedy is a reserve: a file of ``buffer.reserve_bytes``
allocated with ``posix_fallocate`` next to the database while the disk has room. When a write fails with
SQLITE_FULL (or free space at start is below the reserve) the file is deleted: the space it held lets the
receipt in flight finish its journal writes and a WAL checkpoint run, while new receipts are refused with
507 ``storage_full`` (``check_accepting``). Once the disk has room for the reserve twice over, the reserve
is allocated again and sales resume by themselves.

Every process that opens the buffer (adapter, sync runner, kktctl) shares the one reserve file; any of them
may release it, only the adapter re-creates it.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from kkt_adapter.refusal import Refusal

T = TypeVar("T")

log = logging.getLogger(__name__)

#: SQLite's primary result code for "database or disk is full" (sqlite3 exposes it from Python 3.11).
SQLITE_FULL = getattr(sqlite3, "SQLITE_FULL", 13)
#: The reserve file's name in the buffer's directory.
RESERVE_NAME = "reserve.ballast"
#: Room needed to open the journal at all: the first opener creates the WAL index (-shm, 32 KiB per
#: 4096 frames) and the WAL header. Below this, with no reserve left to release, the adapter cannot start.
OPEN_MIN_BYTES = 256 * 1024


class StorageFull(Refusal):
    """The buffer's disk has no room: nothing new is accepted until space returns (``free_bytes`` in the
    answer)."""

    code = "storage_full"

    def __init__(self, free_bytes: int, directory: str, action: str = "the write was not made"):
        super().__init__(
            f"the till's disk is full: {free_bytes} bytes free in {directory}; {action} "
            "(free space on the till — see runbook StorageFull)",
            free_bytes=free_bytes,
        )
        self.free_bytes = free_bytes
        self.directory = directory


def free_bytes(directory: str | Path) -> int:
    """Bytes an unprivileged writer may still allocate on the filesystem holding ``directory``."""
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def preflight(database_path: str | Path) -> StorageFull | None:
    """Before start: the error to report when the journal cannot even be opened (no room, no reserve)."""
    directory = Path(database_path).parent
    if not directory.is_dir() or (directory / RESERVE_NAME).exists():
        return None  # a fresh till creates the directory; a reserve is released at open
    free = free_bytes(directory)
    if free >= OPEN_MIN_BYTES:
        return None
    return StorageFull(
        free, str(directory), f"the journal cannot be opened (it needs {OPEN_MIN_BYTES} bytes)"
    )


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or anything it wraps or was raised while handling) is SQLITE_FULL or ENOSPC.

    Peewee wraps sqlite3 errors, and a failed COMMIT is followed by a failed ROLLBACK ("cannot rollback -
    no transaction is active") that hides the first error in ``__context__``: the whole chain is read.
    """
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorcode", None) == SQLITE_FULL:
            return True
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        if "database or disk is full" in str(current):
            return True
        stack.extend([current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return False


class Reserve:
    """The ballast file in the buffer's directory (see the module docstring)."""

    def __init__(self, directory: str | Path, size_bytes: int):
        self.directory = Path(directory)
        self.path = self.directory / RESERVE_NAME
        self.size_bytes = size_bytes
        self._lock = threading.Lock()
        self.releases = 0  # disk-full events in this process (the metric kkt_storage_full_events_total)

    def present(self) -> bool:
        try:
            return self.path.stat().st_size >= self.size_bytes
        except FileNotFoundError:
            return False

    def free_bytes(self) -> int:
        return free_bytes(self.directory)

    def ensure(self) -> bool:
        """True when the reserve is in place, allocating it if the disk has room for it twice over."""
        if self.present():
            return True
        with self._lock:
            if self.present():
                return True
            if self.free_bytes() < 2 * self.size_bytes:
                return False
            partial = self.path.with_suffix(".partial")
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.posix_fallocate(fd, 0, self.size_bytes)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(partial, self.path)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                if exc.errno == errno.ENOSPC:
                    return False
                raise
            log.warning("storage: reserve of %d bytes allocated at %s", self.size_bytes, self.path)
            return True

    def release(self, why: str) -> bool:
        """Delete the reserve (True when there was one to delete)."""
        with self._lock:
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            self.releases += 1
        log.critical(
            "storage: disk full (%s): reserve of %d bytes released, new receipts refused until space returns",
            why,
            self.size_bytes,
        )
        return True

    def release_if_low(self) -> bool:
        """At start: a disk with less free space than one reserve gets the reserve's room back at once."""
        if self.present() and self.free_bytes() < self.size_bytes:
            return self.release(f"{self.free_bytes()} bytes free at start")
        return False


#: The reserve of the buffer this process opened (``install``); None = no protection (``:memory:``).
_reserve: Reserve | None = None


def install(reserve: Reserve | None) -> None:
    global _reserve
    _reserve = reserve


def installed() -> Reserve | None:
    return _reserve


def _free_now() -> tuple[int, str]:
    if _reserve is None:
        return 0, "?"
    try:
        return _reserve.free_bytes(), str(_reserve.directory)
    except OSError:
        return 0, str(_reserve.directory)


def reserve_missing() -> bool:
    """True while the reserve is released (the disk filled and has not had room for it since)."""
    return _reserve is not None and not _reserve.present()


def accepting() -> bool:
    """Whether a new receipt may be journaled: the reserve is in place (or is allocated now)."""
    if _reserve is None:
        return True
    try:
        return _reserve.ensure()
    except OSError:
        log.exception("storage: cannot allocate the reserve")
        return False


def check_accepting(action: str = "the receipt was not accepted: ring it again once space is freed") -> None:
    """Raise ``StorageFull`` (507) unless a new receipt (or cash operation) may be journaled."""
    if not accepting():
        free, where = _free_now()
        raise StorageFull(free, where, action)


def retry_once_if_full(write: Callable[[], T]) -> T:
    """Run ``write``; on ``StorageFull`` run it once more. The first failure released the reserve, whose
    room is for the receipt in flight (its ``printing`` and ``printed`` writes); a second failure raises."""
    try:
        return write()
    except StorageFull:
        log.warning("storage: disk full; retrying the write of the receipt in flight in the reserve's room")
        return write()


def full_error(exc: BaseException, action: str = "the write was not made") -> StorageFull:
    """The ``StorageFull`` for a disk-full failure ``exc``, releasing the reserve (the room it held is for
    the receipt in flight and the WAL checkpoint)."""
    if _reserve is not None:
        _reserve.release(type(exc).__name__)
    free, where = _free_now()
    error = StorageFull(free, where, action)
    error.__cause__ = exc
    return error


@contextmanager
def translating(action: str = "the write was not made") -> Iterator[None]:
    """Turn a disk-full failure inside the block into ``StorageFull`` (see ``full_error``)."""
    try:
        yield
    except StorageFull:
        raise
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        raise full_error(exc, action) from exc
