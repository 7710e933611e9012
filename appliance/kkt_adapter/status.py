"""``TillStatus``: one snapshot of what the till knows about itself, and the views built from it.

The buffer counts, the KKT's health (and shift state), the journal's open shift, the disk, the breakers,
the network, the FN backlog, the drain and the last sync are read once per ``snapshot()``; the health
report (``/v1/health``, ``kktctl status``), the systemd STATUS line, the heartbeat to Odoo, the buffer API
(``till_view``: the POS indicator) and the metrics all derive from that one reading, so they never disagree
about the same moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kkt_adapter import __version__
from kkt_adapter.buffer import journal, storage
from kkt_adapter.buffer.breaker_store import breaker_states
from kkt_adapter.buffer.models import Shift
from kkt_adapter.fiscal.fn_watch import FnBacklog, FnWatch
from kkt_adapter.fiscal.kkt_health import KktHealth, KktHealthSnapshot


def plan_state(states: dict[str, str]) -> str:
    """The owner's plan's breaker names (CLOSED | OPEN | HALF_OPEN); the worst endpoint wins."""
    values = set(states.values())
    if "open" in values:
        return "OPEN"
    if "half-open" in values:
        return "HALF_OPEN"
    return "CLOSED"


def storage_report() -> dict:
    """The disk under the buffer: ok, or full (reserve released, new receipts get 507). Never allocates:
    the reserve is re-created by the next receipt or the background printer, not by a health check."""
    reserve = storage.installed()
    if reserve is None:
        return {"status": "ok", "reserve": "off"}
    return {
        "status": "full" if storage.reserve_missing() else "ok",
        "free_bytes": reserve.free_bytes(),
        "reserve_bytes": reserve.size_bytes,
        "reserve_present": reserve.present(),
        "full_events": reserve.releases,
    }


@dataclass(frozen=True)
class Snapshot:
    buffer: journal.BufferStatus | None  # None when the buffer cannot be read (buffer_error says why)
    buffer_error: str | None
    kkt: KktHealthSnapshot
    storage: dict
    breakers: dict[str, str]  # endpoint -> pybreaker state name
    network: str  # online | degraded | offline | unknown (no Odoo configured)
    fn_backlog: FnBacklog | None
    draining: bool
    last_sync: dict | None
    shift: Shift | None = None  # the shift the journal holds open

    @property
    def disk_full(self) -> bool:
        return self.storage["status"] == "full"

    @property
    def breaker(self) -> str:
        return plan_state(self.breakers)


def kkt_state(kkt: KktHealthSnapshot) -> str:
    """The KKT's state as the health report and the buffer status say it: ``ok``, or what is wrong."""
    return "ok" if kkt.ok else kkt.state


def till_view(snap: Snapshot, now: float | None = None) -> dict:
    """What the POS indicator shows besides the buffer, from the snapshot alone (no device round trip):
    the KKT state, the FN's days to expiry and the age of its oldest document the OFD has not confirmed
    (as of the last FN reading, every ``[fn_watch] interval_seconds``), and the shift as the KKT last
    reported it with its age from the journal (54-FZ: a shift may not last over 24 h)."""
    now = time.time() if now is None else now
    backlog = snap.fn_backlog
    waiting = backlog is not None and backlog.unconfirmed > 0 and backlog.oldest_unconfirmed_at is not None
    shift_open = snap.kkt.shift_open
    opened = snap.shift.opened_at if shift_open and snap.shift is not None else None
    return {
        "kkt_status": kkt_state(snap.kkt),
        "fn_days_left": backlog.days_to_expiry if backlog is not None else None,
        "fn_unconfirmed_days": int(backlog.oldest_age_seconds // 86400) if waiting else None,
        "shift_open": shift_open,
        "shift_opened_at": datetime.fromtimestamp(opened).astimezone().isoformat() if opened else None,
        "shift_age_seconds": round(max(0.0, now - opened), 1) if opened else None,
    }


class TillStatus:
    def __init__(
        self,
        capacity: int,
        kkt: KktHealth,
        fn_watch: FnWatch,
        network: Callable[[], str],
        draining: Callable[[], bool],
        last_sync: Callable[[], dict | None],
    ):
        self.capacity = capacity
        self.kkt = kkt
        self.fn_watch = fn_watch
        self.network = network
        self.draining = draining
        self.last_sync = last_sync

    def snapshot(self) -> Snapshot:
        try:
            buffer, error = journal.buffer_status(self.capacity), None
            shift = journal.open_shift()
        except Exception as exc:  # noqa: BLE001 - a buffer that cannot be read is reported, not raised
            buffer, error, shift = None, str(exc), None
        return Snapshot(
            buffer=buffer,
            buffer_error=error,
            kkt=self.kkt.snapshot(),
            storage=storage_report(),
            breakers=breaker_states(),
            network=self.network(),
            fn_backlog=self.fn_watch.snapshot(),
            draining=self.draining(),
            last_sync=self.last_sync(),
            shift=shift,
        )

    def status_line(self) -> str:
        """systemd's STATUS= line (``systemctl status kkt-adapter``)."""
        snap = self.snapshot()
        st = snap.buffer
        buffer = f"buffer unreadable: {snap.buffer_error}"
        if st:
            buffer = f"buffer {st.current_queued}/{st.total_capacity} ({st.percent_full:.0f}%), "
            buffer += f"not printed {st.not_printed}"
        full = f"DISK FULL ({snap.storage['free_bytes']} bytes free), new receipts refused; "
        return (
            (full if snap.disk_full else "") + f"KKT {snap.kkt.state}; {buffer}; network {snap.network}; "
            f"breaker {snap.breaker}; DLQ {st.dlq_size if st else '?'}"
        )

    def heartbeat_payload(self) -> dict:
        """What the heartbeat tells Odoo about this till besides its clock (the keys the fleet page reads
        are listed in docs/api/odoo-till-contract.md, heartbeat ``status``)."""
        snap = self.snapshot()
        st = snap.buffer
        backlog = snap.fn_backlog
        return {
            "version": __version__,
            "buffer": {
                "queued": st.current_queued,
                "capacity": st.total_capacity,
                "percent_full": round(st.percent_full, 1),
                "dlq": st.dlq_size,
            }
            if st
            else None,
            "fn_number": backlog.fn_number if backlog and backlog.fn_number else None,
            "fn_backlog": backlog.as_dict() if backlog else None,
            "network": snap.network,
            "breaker": snap.breaker,
            "breakers": snap.breakers,
            "kkt": snap.kkt.state,
        }

    def health_report(self) -> dict:
        snap = self.snapshot()
        buffer = self._buffer_view(snap)
        kkt = snap.kkt
        breaker = {
            "state": snap.breaker,
            "endpoints": {k: plan_state({k: v}) for k, v in snap.breakers.items()},
        }
        backlog = snap.fn_backlog
        # Why the adapter is not healthy, in words an admin can act on (kktctl status prints them).
        reasons = [
            text
            for bad, text in (
                (not buffer["writable"], f"buffer not writable: {buffer.get('detail')}"),
                (buffer["status"] == "full", "buffer full: deliver the backlog"),
                (not kkt.ok, f"KKT {kkt.state}" + (f": {kkt.detail}" if kkt.detail else "")),
                (snap.draining, "draining for shutdown: new receipts are refused"),
                (breaker["state"] != "CLOSED", f"circuit breaker {breaker['state']}: deliveries wait"),
                (snap.network not in ("online", "unknown"), f"network {snap.network}"),
                (
                    bool(backlog and backlog.warning_days is not None),
                    "FN documents unconfirmed by the OFD near the 30-day block",
                ),
            )
            if bad
        ]
        overall = "unhealthy" if not buffer["writable"] else ("degraded" if reasons else "healthy")
        return {
            "status": overall,
            "reasons": reasons,
            "draining": snap.draining,
            "components": {
                "buffer": buffer,
                "kkt": {
                    "status": kkt_state(kkt),
                    "detail": kkt.detail,
                    "since": kkt.since,
                    "last_ok_at": kkt.last_ok_at,
                },
                "circuit_breaker": breaker,
                "network": {"status": snap.network},
                "fn_backlog": backlog.as_dict() if backlog else {"status": "not read yet"},
                "storage": snap.storage,
                "last_sync": snap.last_sync,
            },
        }

    @staticmethod
    def _buffer_view(snap: Snapshot) -> dict:
        st = snap.buffer
        if st is None:
            return {"status": "error", "writable": False, "detail": snap.buffer_error}
        buffer = {
            "status": "ok" if st.percent_full < 100 else "full",
            "writable": True,
            "current_queued": st.current_queued,
            "total_capacity": st.total_capacity,
            "percent_full": st.percent_full,
            "not_printed": st.not_printed,
            "dlq_size": st.dlq_size,
            "oldest_pending_age_seconds": st.oldest_pending_age_seconds,
        }
        if snap.disk_full:
            # No probe write: it would eat the room the reserve left for the receipt in flight.
            detail = f"disk full: {snap.storage['free_bytes']} bytes free, new receipts get 507 storage_full"
            buffer.update(status="storage_full", writable=False, detail=detail)
            return buffer
        try:
            journal.probe_writable()
        except Exception as exc:  # noqa: BLE001 - report any buffer failure as unhealthy
            return {"status": "error", "writable": False, "detail": str(exc)}
        return buffer
