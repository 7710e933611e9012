"""The buffer's clock and event log: the persisted HLC (one row) and the append-only ``buffer_events``.

Lowest module of the buffer above the models: journal (phase 1) and deliveries (phase 2) both write events
with a fresh HLC timestamp inside their own IMMEDIATE transactions.
"""

from __future__ import annotations

import json
from typing import Any

from kkt_adapter import hlc
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.models import BufferEvent, HlcState


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def next_hlc() -> hlc.Timestamp:
    """Issue the next HLC timestamp and persist it; call inside an IMMEDIATE transaction."""
    row = HlcState.get_by_id(1)
    ts = hlc.tick(hlc.Timestamp(row.wall_ms, row.logical), hlc.wall_clock_ms())
    HlcState.update(wall_ms=ts.wall_ms, logical=ts.logical).where(HlcState.id == 1).execute()
    return ts


def merge_remote_hlc(remote: hlc.Timestamp) -> hlc.Timestamp:
    """Merge a timestamp received from the server (HLC receive event) and persist the result."""
    with write_transaction():
        row = HlcState.get_by_id(1)
        ts = hlc.receive(hlc.Timestamp(row.wall_ms, row.logical), remote, hlc.wall_clock_ms())
        HlcState.update(wall_ms=ts.wall_ms, logical=ts.logical).where(HlcState.id == 1).execute()
        return ts


def current_hlc() -> hlc.Timestamp:
    row = HlcState.get_by_id(1)
    return hlc.Timestamp(row.wall_ms, row.logical)


def add_event(event_type: str, receipt_id: str | None = None, **metadata: Any) -> BufferEvent:
    """Append one event with a fresh HLC timestamp; call inside an IMMEDIATE transaction."""
    ts = next_hlc()
    return BufferEvent.create(
        event_type=event_type,
        receipt=receipt_id,
        timestamp=hlc.wall_clock_ms(),
        hlc=str(ts),
        metadata=dumps(metadata) if metadata else None,
    )
