"""Shift and report endpoints (cashier operations from the POS, and FN status for admins)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter.fiscal.service import OperationError
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktTimeout
from kkt_adapter.web.errors import Problem

bp = Blueprint("shift", __name__, url_prefix="/v1/kkt")


def _run(operation, *, fiscal: bool = True):
    """Run a device operation; ``fiscal`` ones (shift, reports) are refused once a drain has begun."""
    runtime = current_app.extensions["kkt"]
    try:
        if not fiscal:
            return operation(runtime.service)
        with runtime.operation():
            return operation(runtime.service)
    except OperationError as exc:
        raise Problem(exc.status, exc.code, "Operation not possible now", exc.detail) from None
    except KktDeviceError as exc:
        raise Problem(409, "kkt_refused", "The KKT refused", exc.description, device_code=exc.code) from None
    except KktTimeout as exc:
        raise Problem(504, "kkt_timeout", "The KKT did not answer", str(exc)) from None
    except KktError as exc:
        raise Problem(503, "kkt_unavailable", "KKT unavailable", str(exc)) from None


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
