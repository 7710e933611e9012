"""What the adapter currently knows about its KKT, updated by every exchange (health, STATUS, metrics)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class KktHealthSnapshot:
    state: str  # ok | unknown | unreachable | timeout | paper_out | shift_expired | error
    detail: str
    since: float  # unix time the state was entered
    last_ok_at: float | None
    checked_at: float  # unix time of the last exchange that set this state
    # Whether a shift is open, as the KKT said last (short status, shift open / Z report); None until the
    # KKT was asked. Kept through link failures: the shift does not change while nobody can talk to it.
    shift_open: bool | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"


class KktHealth:
    """Thread-safe holder of the last known KKT link state (never touches the device itself)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snap = KktHealthSnapshot("unknown", "no exchange yet", time.time(), None, 0.0)

    def set(self, state: str, detail: str = "") -> None:
        with self._lock:
            now = time.time()
            last_ok = now if state == "ok" else self._snap.last_ok_at
            since = self._snap.since if state == self._snap.state else now
            self._snap = KktHealthSnapshot(state, detail, since, last_ok, now, self._snap.shift_open)

    def note_shift(self, shift_open: bool) -> None:
        """Record the shift state the KKT just reported (or that a shift open / Z report just made)."""
        with self._lock:
            self._snap = replace(self._snap, shift_open=bool(shift_open))

    def snapshot(self) -> KktHealthSnapshot:
        with self._lock:
            return self._snap
