"""Hybrid Logical Clock (Kulkarni et al., 2014) for ordering every journaled event on a till.

A timestamp is ``(wall_ms, logical)``: ``wall_ms`` never goes backwards even when the system clock does,
and ``logical`` breaks ties. The functions here are pure; the buffer persists the last timestamp in the
same transaction as the event that used it, so restarts and concurrent processes stay strictly monotonic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: A remote timestamp further ahead of max(local wall clock, last HLC) than this is refused: one bogus
#: server answer must not pin the clock years into the future. One day covers any real clock skew.
MAX_FORWARD_MS = 24 * 3600 * 1000


class ClockSkewError(ValueError):
    """A remote timestamp is implausibly far ahead of local time."""


@dataclass(frozen=True, order=True)
class Timestamp:
    """One HLC reading; orders by wall time, then by the logical counter."""

    wall_ms: int
    logical: int = 0

    def __str__(self) -> str:
        # Fixed width so that string order equals timestamp order (useful in logs and JSON).
        return f"{self.wall_ms:015d}.{self.logical:05d}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        wall, _, logical = text.partition(".")
        return cls(int(wall), int(logical or 0))


ZERO = Timestamp(0, 0)


def wall_clock_ms() -> int:
    """Physical time in milliseconds since the epoch (the ``pt`` of the paper)."""
    return time.time_ns() // 1_000_000


def tick(last: Timestamp, physical_ms: int) -> Timestamp:
    """Timestamp for a local or send event: ``l = max(l, pt)``; counter bumps when ``l`` did not move."""
    wall = max(last.wall_ms, physical_ms)
    logical = last.logical + 1 if wall == last.wall_ms else 0
    return Timestamp(wall, logical)


def receive(
    last: Timestamp, remote: Timestamp, physical_ms: int, max_forward_ms: int = MAX_FORWARD_MS
) -> Timestamp:
    """Timestamp for a receive event carrying ``remote`` (e.g. the server time of a delivery answer)."""
    horizon = max(physical_ms, last.wall_ms) + max_forward_ms
    if remote.wall_ms > horizon:
        raise ClockSkewError(
            f"remote timestamp {remote} is more than {max_forward_ms} ms ahead of local time"
        )
    wall = max(last.wall_ms, remote.wall_ms, physical_ms)
    if wall == last.wall_ms == remote.wall_ms:
        logical = max(last.logical, remote.logical) + 1
    elif wall == last.wall_ms:
        logical = last.logical + 1
    elif wall == remote.wall_ms:
        logical = remote.logical + 1
    else:
        logical = 0
    return Timestamp(wall, logical)


def drift_seconds(last: Timestamp, physical_ms: int) -> float:
    """How far the HLC runs ahead of the wall clock (kkt_hlc_drift_seconds); 0 when the clock is sane."""
    return max(0, last.wall_ms - physical_ms) / 1000.0
