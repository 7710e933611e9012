"""``POST /v1/kkt/cash/in`` and ``POST /v1/kkt/cash/out``: cash in / cash out on the KKT for the POS session.

The operation is journaled under its Idempotency-Key before the KKT hears of it (fiscal/cash.py decides
every doubt from the KKT's counters). Final answers — ``done`` (200) and ``insufficient_cash`` (409) —
are stored and replayed byte for byte; ``kkt_unavailable`` / ``kkt_refused`` / ``shift_not_open`` (not
recorded) and ``kkt_timeout`` (in doubt) are not final: a retry with the same key goes on from there.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from kkt_adapter.buffer import cash as cash_journal
from kkt_adapter.buffer.models import CashOperation
from kkt_adapter.buffer.storage import StorageFull
from kkt_adapter.fiscal.cash import WHAT, CashNotDone, CashOutcome
from kkt_adapter.fiscal.cash_request import validate_cash
from kkt_adapter.kkt.types import CashKind
from kkt_adapter.web.body import parse_json_body
from kkt_adapter.web.errors import problem_body, raw_problem
from kkt_adapter.web.receipts import idempotency_key

log = logging.getLogger(__name__)

bp = Blueprint("cash", __name__, url_prefix="/v1/kkt/cash")


@bp.post("/in")
def cash_in() -> Response:
    return _cash(CashKind.IN)


@bp.post("/out")
def cash_out() -> Response:
    return _cash(CashKind.OUT)


def _cash(kind: CashKind) -> Response:
    runtime = current_app.extensions["kkt"]
    with runtime.operation():  # 503 shutting_down once a drain has begun; the drain waits for this one
        key = idempotency_key(
            f"every {WHAT[kind.value]} carries an Idempotency-Key header (a UUID made once per operation)"
        )
        body = parse_json_body()
        validated = validate_cash(body, max_total=runtime.cfg.receipt.max_total)
        metrics = current_app.extensions["kkt_metrics"]
        try:
            outcome = runtime.service.cash.submit(kind, key, body, validated)
        except CashNotDone as exc:  # leaves through the error map with its code and operation_id
            metrics.cash(kind.value, exc.outcome)
            raise
        metrics.cash(kind.value, outcome.label)
        return _answer(outcome)


def _answer(outcome: CashOutcome) -> Response:
    if outcome.stored is not None:
        status, payload = outcome.stored
    else:
        status, payload = _rendered(outcome.operation)
        _remember(outcome.operation.id, status, payload)
    resp = raw_problem(status, payload) if status >= 400 else jsonify(payload)
    resp.status_code = status
    if outcome.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _roubles(kopecks: int | None) -> str | None:
    return None if kopecks is None else f"{kopecks / 100:.2f}"


def cash_view(operation: CashOperation) -> dict:
    return {
        "operation_id": operation.id,
        "kind": operation.kind,
        "amount": _roubles(operation.amount),
        "status": operation.status,
        "document_number": operation.document_number,
        "cash_in_drawer": _roubles(operation.cash_in_drawer),
    }


def _rendered(operation: CashOperation) -> tuple[int, dict]:
    """The HTTP form of a final answer: 200 done, or the ``insufficient_cash`` problem."""
    if operation.status == "refused":
        drawer = _roubles(operation.cash_in_drawer)
        return problem_body(
            "insufficient_cash",
            f"the drawer holds {drawer if drawer is not None else 'less'}; the KKT refused to pay out "
            f"{_roubles(operation.amount)}",
            operation_id=operation.id,
            kind=operation.kind,
            amount=_roubles(operation.amount),
            cash_in_drawer=drawer,
        )
    return 200, cash_view(operation)


def _remember(operation_id: str, status: int, payload: dict) -> None:
    """Store the final answer under its key: a retry gets it back byte for byte."""
    try:
        cash_journal.store_response(operation_id, status, payload)
    except StorageFull:
        # The operation itself is journaled: a retry re-derives this answer from its state.
        log.warning("answer for cash operation %s not stored (disk full)", operation_id)
