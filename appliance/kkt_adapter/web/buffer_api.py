"""``GET /v1/kkt/buffer/status``: the owner's plan's fields plus what an operator needs to act."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter.buffer import events

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
    }


@bp.get("/status")
def buffer_status() -> Response:
    return jsonify(status_dict(current_app.extensions["kkt"]))
