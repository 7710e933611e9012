"""FN backlog watch: documents the OFD has not confirmed, the age of the oldest one, days to the block.

The FN stops signing when its oldest unconfirmed document is 30 days old (54-FZ art. 4.1); warnings go
out at 5, 3 and 1 days before (configurable), each once per level, as an event, a log line and metrics.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime

from kkt_adapter.buffer import events
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.config import FnWatchConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FnBacklog:
    unconfirmed: int
    oldest_unconfirmed_at: datetime | None
    oldest_age_seconds: float
    days_to_block: float | None  # None when nothing is waiting
    expires_on: date
    days_to_expiry: int
    warning_days: int | None  # the tightest threshold crossed, e.g. 3
    fn_number: str = ""  # the FN these figures are about (a replaced FN starts a new backlog)

    def as_dict(self) -> dict:
        return {
            "unconfirmed": self.unconfirmed,
            "oldest_unconfirmed_at": self.oldest_unconfirmed_at.isoformat()
            if self.oldest_unconfirmed_at
            else None,
            "oldest_age_seconds": round(self.oldest_age_seconds, 1),
            "days_to_block": None if self.days_to_block is None else round(self.days_to_block, 2),
            "fn_expires_on": self.expires_on.isoformat(),
            "days_to_expiry": self.days_to_expiry,
            "warning_days": self.warning_days,
            "fn_number": self.fn_number,
        }


def assess(
    cfg: FnWatchConfig,
    unconfirmed: int,
    oldest: datetime | None,
    fn_now: datetime,
    expires_on: date,
    fn_number: str = "",
) -> FnBacklog:
    """Pure: the backlog figures from what the FN reported (times in the FN's own clock)."""
    age = max(0.0, (fn_now - oldest).total_seconds()) if (oldest and unconfirmed) else 0.0
    days_to_block = cfg.block_after_days - age / 86400 if (oldest and unconfirmed) else None
    crossed = [d for d in sorted(cfg.warn_days) if days_to_block is not None and days_to_block <= d]
    return FnBacklog(
        unconfirmed=unconfirmed,
        oldest_unconfirmed_at=oldest if unconfirmed else None,
        oldest_age_seconds=age,
        days_to_block=days_to_block,
        expires_on=expires_on,
        days_to_expiry=(expires_on - fn_now.date()).days,
        warning_days=crossed[0] if crossed else None,
        fn_number=fn_number,
    )


class FnWatch:
    """Holds the last backlog reading; the adapter's background loop refreshes it under the device lock."""

    def __init__(self, cfg: FnWatchConfig):
        self.cfg = cfg
        self._lock = threading.Lock()
        self.backlog: FnBacklog | None = None
        self._warned: int | None = None

    def update(self, backlog: FnBacklog, pos_id: str) -> None:
        with self._lock:
            self.backlog = backlog
            level = backlog.warning_days
            if level is not None and (self._warned is None or level < self._warned):
                log.warning(
                    "FN %s unconfirmed documents; the oldest blocks the FN in %.1f days: deliver to the OFD",
                    backlog.unconfirmed,
                    backlog.days_to_block,
                )
                with write_transaction():
                    events.add_event("fn_backlog_warning", None, pos_id=pos_id, **backlog.as_dict())
            self._warned = level

    def snapshot(self) -> FnBacklog | None:
        with self._lock:
            return self.backlog
