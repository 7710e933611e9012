"""Shift and report endpoints (cashier operations from the POS, and FN status for admins)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("shift", __name__, url_prefix="/v1/kkt")


def _run(operation, *, fiscal: bool = True):
    """Run a device operation; ``fiscal`` ones (shift, reports) are refused once a drain has begun.

    Refusals (shift_not_open, …) and KKT errors leave through the error map (web/errors.py).
    """
    runtime = current_app.extensions["kkt"]
    if not fiscal:
        return operation(runtime.service)
    with runtime.operation():
        return operation(runtime.service)


@bp.post("/shift/open")
def open_shift() -> Response:
    report = _run(lambda s: s.open_shift())
    return jsonify({"shift_number": report.shift_number, "fd_number": report.fd_number})


@bp.post("/shift/close")
def close_shift() -> Response:
    report = _run(lambda s: s.z_report())
    return jsonify({"shift_number": report.shift_number, "fd_number": report.fd_number, "report": "Z"})


@bp.post("/report/x")
def x_report() -> Response:
    number = _run(lambda s: s.x_report())
    return jsonify({"shift_number": number, "report": "X"})


@bp.get("/fn")
def fn_status() -> Response:
    return jsonify(_run(lambda s: s.fn_info(), fiscal=False))
