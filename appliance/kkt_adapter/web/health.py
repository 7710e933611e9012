"""``/v1/health`` (components: buffer, kkt) and ``/v1/health/live`` (the watchdog's self-check)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter import __version__

bp = Blueprint("health", __name__, url_prefix="/v1/health")


@bp.get("")
def health() -> Response:
    runtime = current_app.extensions["kkt"]
    report = runtime.health_report()
    resp = jsonify({"version": __version__, "pos_id": runtime.cfg.pos_id, **report})
    # A dead buffer makes the adapter useless (503); a missing KKT only degrades it (receipts buffer).
    resp.status_code = 503 if report["status"] == "unhealthy" else 200
    return resp


@bp.get("/live")
def live() -> Response:
    return jsonify({"status": "alive"})
