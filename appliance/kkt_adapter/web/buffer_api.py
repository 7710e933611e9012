"""``GET /v1/kkt/buffer/status``: the owner's plan's fields plus what an operator and the POS need to act.

Polled by every POS every few seconds, so it never talks to the KKT: everything comes from one
``TillStatus`` snapshot (the buffer's counts, the KKT state and shift as last reported, the FN backlog as
last read).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter.buffer import events
from kkt_adapter.status import till_view

bp = Blueprint("buffer", __name__, url_prefix="/v1/kkt/buffer")


def status_dict(runtime) -> dict:
    snap = runtime.status.snapshot()
    st = snap.buffer
    if st is None:
        raise RuntimeError(f"buffer unreadable: {snap.buffer_error}")
    return {
        "pos_id": runtime.cfg.pos_id,
        "total_capacity": st.total_capacity,
        "current_queued": st.current_queued,
        "percent_full": st.percent_full,
        "network_status": snap.network,
        "not_printed": st.not_printed,
        "rejected": st.rejected,
        "dlq_size": st.dlq_size,
        "oldest_pending_age_seconds": st.oldest_pending_age_seconds,
        "hlc": str(events.current_hlc()),
        **till_view(snap),
    }


@bp.get("/status")
def buffer_status() -> Response:
    return jsonify(status_dict(current_app.extensions["kkt"]))
