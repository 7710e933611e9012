"""Shift and report endpoints (cashier operations from the POS, and FN status for admins).

Shift open, Z and X take an optional JSON body ``{"cashier": {"name": ..., "inn": ...}}`` (no body: no
cashier): the cashier goes into the FN's shift open / close report (tags 1021 / 1203). The X and Z answers
carry the shift's totals from the journal; the Z answer also when the FN signed it and the FN's OFD backlog
read right after it (tags 1097 / 1098).
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, current_app, jsonify, request

from kkt_adapter.buffer.journal import ShiftTotals
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.kkt.types import Cashier
from kkt_adapter.web.body import parse_json_body
from kkt_adapter.web.errors import Problem

bp = Blueprint("shift", __name__, url_prefix="/v1/kkt")


def _run(operation, *, fiscal: bool = True):
    """Run a device operation; ``fiscal`` ones (shift, reports) are refused once a drain has begun.

    Refusals (shift_not_open, invalid_shift_request, …) and KKT errors leave through the error map
    (web/errors.py).
    """
    runtime = current_app.extensions["kkt"]
    if not fiscal:
        return operation(runtime.service)
    with runtime.operation():
        return operation(runtime.service)


def _cashier() -> Cashier | None:
    """The optional body's cashier: no body at all, or strict JSON ``{"cashier": {...} | null}``."""
    if request.get_data(cache=True) and request.mimetype != "application/json":
        raise Problem("unsupported_media_type", "send Content-Type: application/json, or no body")
    return receipt_request.validate_shift(parse_json_body(required=False))


def money(kopecks: int) -> str:
    """Roubles with 2 decimals, exact (negative for a shift that paid out more than it took)."""
    return f"{Decimal(kopecks) / 100:.2f}"


def totals_view(totals: ShiftTotals | None) -> dict | None:
    if totals is None:
        return None
    return {
        "receipts": totals.receipts,
        "sales": money(totals.sales),
        "refunds": money(totals.refunds),
        "cash": money(totals.cash),
        "electronic": money(totals.electronic),
        "prepayment": money(totals.prepayment),
    }


@bp.post("/shift/open")
def open_shift() -> Response:
    report = _run(lambda s: s.open_shift(_cashier()))
    return jsonify({"shift_number": report.shift_number, "fd_number": report.fd_number})


@bp.post("/shift/close")
def close_shift() -> Response:
    closed = _run(lambda s: s.z_report(_cashier()))
    return jsonify(
        {
            "shift_number": closed.report.shift_number,
            "fd_number": closed.report.fd_number,
            "report": "Z",
            "closed_at": closed.closed_at.isoformat() if closed.closed_at else None,
            "unsent_count": closed.unsent_count,
            "first_unsent_at": closed.first_unsent_at.isoformat() if closed.first_unsent_at else None,
            "totals": totals_view(closed.totals),
        }
    )


@bp.post("/report/x")
def x_report() -> Response:
    report = _run(lambda s: s.x_report(_cashier()))
    return jsonify({"shift_number": report.shift_number, "report": "X", "totals": totals_view(report.totals)})


@bp.get("/fn")
def fn_status() -> Response:
    return jsonify(_run(lambda s: s.fn_info(), fiscal=False))
