"""Hybrid Logical Clock (Kulkarni et al., 2014) for ordering every journaled event on a till.

A timestamp is ``(wall_ms, logical)``: ``wall_ms`` never goes backwards even when the system clock does,
and ``logical`` breaks ties. The text form is fixed-width (15 + 5 digits) so that string order is timestamp
order; when the counter would outgrow its 5 digits (more than 99,999 events inside one millisecond of a
clock held back), the wall part advances by 1 ms instead — the HLC then runs ahead of the wall clock, which
``kkt_hlc_drift_seconds`` shows. The functions here are pure; the buffer persists the last timestamp in the
same transaction as the event that used it, so restarts and concurrent processes stay strictly monotonic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: A remote timestamp further ahead of max(local wall clock, last HLC) than this is refused: one bogus
#: server answer must not pin the clock years into the future. One day covers any real clock skew.
MAX_FORWARD_MS = 24 * 3600 * 1000

#: The logical counter's width in the text form (docs/api/odoo-till-contract.md): 5 digits.
LOGICAL_DIGITS = 5
MAX_LOGICAL = 10**LOGICAL_DIGITS - 1
#: The wall part's width: 15 digits of milliseconds reach the year 33658.
WALL_DIGITS = 15
MAX_WALL_MS = 10**WALL_DIGITS - 1


class ClockSkewError(ValueError):
    """A remote timestamp is implausibly far ahead of local time."""


@dataclass(frozen=True, order=True)
class Timestamp:
    """One HLC reading; orders by wall time, then by the logical counter."""

    wall_ms: int
    logical: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.wall_ms <= MAX_WALL_MS and 0 <= self.logical <= MAX_LOGICAL):
            raise ValueError(f"HLC out of range: wall {self.wall_ms} ms, logical {self.logical}")

    def __str__(self) -> str:
        # Fixed width so that string order equals timestamp order (logs, JSON, the Odoo contract).
        return f"{self.wall_ms:0{WALL_DIGITS}d}.{self.logical:0{LOGICAL_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        wall, dot, logical = text.partition(".")
        if not (len(wall) == WALL_DIGITS and wall.isdigit() and dot and len(logical) == LOGICAL_DIGITS
                and logical.isdigit()):  # fmt: skip
            raise ValueError(f"not an HLC timestamp ({WALL_DIGITS}.{LOGICAL_DIGITS} digits): {text!r}")
        return cls(int(wall), int(logical))


def _carry(wall: int, logical: int) -> Timestamp:
    """The timestamp ``(wall, logical)``, with a counter past its width carried into the wall part."""
    if logical > MAX_LOGICAL:
        return Timestamp(wall + 1, 0)
    return Timestamp(wall, logical)


ZERO = Timestamp(0, 0)


def wall_clock_ms() -> int:
    """Physical time in milliseconds since the epoch (the ``pt`` of the paper)."""
    return time.time_ns() // 1_000_000


def tick(last: Timestamp, physical_ms: int) -> Timestamp:
    """Timestamp for a local or send event: ``l = max(l, pt)``; counter bumps when ``l`` did not move."""
    wall = max(last.wall_ms, physical_ms)
    logical = last.logical + 1 if wall == last.wall_ms else 0
    return _carry(wall, logical)


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
    return _carry(wall, logical)


def drift_seconds(last: Timestamp, physical_ms: int) -> float:
    """How far the HLC runs ahead of the wall clock (kkt_hlc_drift_seconds); 0 when the clock is sane."""
    return max(0, last.wall_ms - physical_ms) / 1000.0
