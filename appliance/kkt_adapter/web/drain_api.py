"""``POST /v1/kkt/drain`` (admin): prepare the till for a power cut — the UPS shutdown path calls it.

Answers 200 with each step and its timing (see ``Runtime.drain``); ``status`` is ``drained`` or
``incomplete`` (a print still in flight or a checkpoint kept busy past the bound). Idempotent.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter.web.auth import admin_required

bp = Blueprint("drain", __name__, url_prefix="/v1/kkt")


@bp.post("/drain")
@admin_required
def drain() -> Response:
    return jsonify(current_app.extensions["kkt"].drain())
