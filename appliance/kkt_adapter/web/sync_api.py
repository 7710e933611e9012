"""Admin endpoints of phase 2: start a sync (202; 409 while one runs) and the dead letter queue."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from kkt_adapter.buffer import deliveries
from kkt_adapter.web.auth import admin_required
from kkt_adapter.web.body import parse_json_body
from kkt_adapter.web.errors import Problem

bp = Blueprint("sync", __name__, url_prefix="/v1/kkt")


@bp.post("/buffer/sync")
@admin_required
def start_sync() -> Response:
    runtime = current_app.extensions["kkt"]
    runtime.start_sync()  # SyncBusy: 409 sync_in_progress (web/errors.py)
    resp = jsonify({"status": "started", "pending": deliveries.overview().pending})
    resp.status_code = 202
    return resp


def dlq_view(entry) -> dict:
    return {
        "dlq_id": entry.id,
        "receipt_id": entry.original_receipt_id,
        "delivery_id": entry.delivery_id,
        "failed_at": entry.failed_at,
        "reason": entry.reason,
        "retry_attempts": entry.retry_attempts,
        "last_error": entry.last_error,
        "resolved_at": entry.resolved_at,
        "resolved_by": entry.resolved_by,
    }


@bp.get("/dlq")
@admin_required
def dlq_list() -> Response:
    include = request.args.get("all", "false").lower() in ("1", "true", "yes")
    return jsonify([dlq_view(e) for e in deliveries.dlq_list(include_resolved=include)])


def _by() -> tuple[str, str]:
    body = parse_json_body(required=False)
    body = {} if body is None else body
    if not isinstance(body, dict):
        raise Problem("malformed_json", "the body must be a JSON object")
    by = str(body.get("by") or "admin-api")[:64]
    return by, str(body.get("note") or "")[:200]


@bp.post("/dlq/<dlq_id>/retry")
@admin_required
def dlq_retry(dlq_id: str) -> Response:
    by, _ = _by()
    return jsonify(dlq_view(deliveries.dlq_retry(dlq_id, by)))


@bp.post("/dlq/<dlq_id>/resolve")
@admin_required
def dlq_resolve(dlq_id: str) -> Response:
    by, note = _by()
    return jsonify(dlq_view(deliveries.dlq_resolve(dlq_id, by, note)))
