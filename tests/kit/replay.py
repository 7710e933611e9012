"""Re-deriving a receipt's two statuses from its events, for the tests that prove the buffer's events are
the source of truth (``buffer_events``; docs/receipt-state-machine.md). The fiscal transitions are the
product's own table (``journal.FISCAL_TRANSITIONS``, which also guards every state change)."""

from __future__ import annotations

from collections.abc import Iterable

from kkt_adapter.buffer.journal import FISCAL_TRANSITIONS


def replay_fiscal_status(event_types: Iterable[str]) -> str | None:
    """Re-derive a receipt's fiscal status from its events; raises on an impossible transition."""
    state: str | None = None
    for event in event_types:
        key = (state, event)
        if key in FISCAL_TRANSITIONS:
            state = FISCAL_TRANSITIONS[key]
        elif event in {e for _, e in FISCAL_TRANSITIONS}:
            raise ValueError(f"impossible transition: {state} --{event}-->")
    return state


def replay_sync_status(event_types: Iterable[str]) -> str:
    """pending | synced | failed from the events; ``syncing`` is a lease, replayed as pending."""
    status, failed_legs = "pending", 0
    for event in event_types:
        if event == "receipt_failed":
            failed_legs += 1
            status = "failed"
        elif event == "dlq_retried":
            failed_legs = max(0, failed_legs - 1)
            status = "failed" if failed_legs else "pending"
        elif event == "receipt_synced":
            status = "synced"
        elif event == "odoo_redelivery_queued" and status == "synced":
            status = "pending"  # Odoo lost the receipt (buffer/redelivery.py): on its way again
    return status
