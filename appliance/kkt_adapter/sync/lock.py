"""One sync runner per till: an exclusive, non-blocking ``flock`` on a file under /run/kkt-adapter/.

The lock belongs to the open file, so it is shared correctly between threads of the adapter (each takes
its own file handle), the timer's ``kktctl sync`` process and an admin's manual run, and the kernel drops
it when a holder dies — a killed runner can never leave the lock stuck.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from kkt_adapter.refusal import Refusal


class SyncBusy(Refusal, RuntimeError):
    """Another runner holds the lock."""

    code = "sync_in_progress"


class HostLock:
    def __init__(self, path: str):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> HostLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SyncBusy(f"a sync is already running (lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> HostLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
