"""``POST /v1/kkt/receipt`` (phase 1 of fiscalization) and the admin receipt views."""

from __future__ import annotations

import json
import logging
import uuid

from flask import Blueprint, Response, current_app, jsonify, request

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import FISCAL_STATUSES, SYNC_STATUSES
from kkt_adapter.buffer.storage import StorageFull
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal import saga
from kkt_adapter.web.auth import admin_required
from kkt_adapter.web.body import parse_json_body
from kkt_adapter.web.errors import Problem, problem_body, raw_problem

log = logging.getLogger(__name__)

bp = Blueprint("receipts", __name__, url_prefix="/v1/kkt")


def idempotency_key(
    missing: str = "every receipt request carries an Idempotency-Key header (a UUID generated once per sale)",
) -> str:
    """The request's Idempotency-Key as a canonical UUID, or 400 (``missing``: what to tell the client)."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise Problem("idempotency_key_missing", missing)
    try:
        return str(uuid.UUID(key.strip()))
    except ValueError:
        raise Problem("idempotency_key_invalid", f"{key[:64]!r} is not a UUID") from None


@bp.post("/receipt")
def create_receipt() -> Response:
    runtime = current_app.extensions["kkt"]
    with runtime.operation():  # 503 shutting_down once a drain has begun; the drain waits for this one
        return _create_receipt(runtime)


def _create_receipt(runtime) -> Response:
    key = idempotency_key()
    body = parse_json_body()
    # Refusals (invalid_receipt, original_*, idempotency_conflict, buffer_full, storage_full,
    # prepayment_exceeds_advance) leave through the error map (web/errors.py); nothing was journaled for them.
    validated = receipt_request.validate_for(body, runtime.cfg)
    if validated.original_receipt_id:
        saga.check_refund(validated, key)
    outcome = runtime.service.submit(key, body, validated)
    current_app.extensions["kkt_metrics"].receipt(outcome)
    if outcome.stored is not None:
        status, payload = outcome.stored
    else:
        status, payload = _rendered(outcome)
        _remember(key, status, payload)
    resp = raw_problem(status, payload) if status >= 400 else jsonify(payload)
    resp.status_code = status
    if outcome.replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _rendered(outcome) -> tuple[int, dict]:
    """The HTTP form of a fresh answer: 200 printed/buffered, or the ``kkt_rejected`` problem."""
    if outcome.status == "rejected":
        return problem_body("kkt_rejected", outcome.body["detail"], receipt_id=outcome.body["receipt_id"])
    return 200, outcome.body


def _remember(key: str, status: int, payload: dict) -> None:
    """Store the answer under its key: a retry gets a final answer back byte for byte."""
    try:
        journal.store_response(key, status, payload)
    except StorageFull:
        # The receipt itself is journaled: a retry re-derives this answer from its state.
        rid = payload.get("receipt_id")
        log.warning("answer for %s not stored (disk full)", rid, extra={"RECEIPT_ID": rid})


def receipt_view(receipt) -> dict:
    return {
        "receipt_id": receipt.id,
        "kind": receipt.kind,
        "fiscal_status": receipt.fiscal_status,
        "status": receipt.status,
        "total": f"{receipt.total / 100:.2f}",
        "job_ref": receipt.job_ref,
        "prepayment": f"{(receipt.prepayment or 0) / 100:.2f}",
        "created_at": receipt.created_at,
        "hlc": str(receipt.hlc),
        "fn_number": receipt.fn_number,
        "fd_number": receipt.fd_number,
        "fiscal_sign": receipt.fiscal_sign,
        "fiscal_datetime": receipt.fiscal_datetime,
        "print_attempts": receipt.print_attempts,
        "last_error": receipt.last_error,
    }


def document_view(receipt) -> dict:
    """The request as the POS sent it, and the FN's answer once printed (admin views, kktctl)."""
    view: dict = {"request": json.loads(receipt.document)}
    if receipt.fiscal_status == "printed":
        view["fiscal"] = {
            "fn_number": receipt.fn_number,
            "fd_number": receipt.fd_number,
            "fiscal_sign": receipt.fiscal_sign,
            "issued_at": receipt.fiscal_datetime,
            "shift_number": receipt.shift_number,
            "document_type": receipt.fiscal_document_type,
        }
    return view


#: Query filters of the receipt list and the values each accepts (the columns' CHECK constraints).
LIST_FILTERS = {"fiscal_status": FISCAL_STATUSES, "status": SYNC_STATUSES}


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """A query filter's value, or 400 naming the parameter and what it accepts (never a silent [])."""
    value = request.args.get(name)
    if value is None or value in allowed:
        return value
    raise Problem(
        "bad_parameter",
        f"{name} must be one of {', '.join(allowed)}, not {value[:32]!r}",
    )


@bp.get("/receipts")
@admin_required
def list_receipts() -> Response:
    try:
        limit = int(request.args.get("limit", 50))
        if not 1 <= limit <= 1000:
            raise ValueError
    except ValueError:
        raise Problem("bad_parameter", "limit must be an integer from 1 to 1000") from None
    filters = {name: _choice(name, allowed) for name, allowed in LIST_FILTERS.items()}
    rows = journal.list_receipts(limit, filters["fiscal_status"], filters["status"])
    return jsonify([receipt_view(r) for r in rows])


@bp.get("/receipt/<receipt_id>")
@admin_required
def show_receipt(receipt_id: str) -> Response:
    receipt = journal.get_receipt(receipt_id)
    if receipt is None:
        raise Problem("receipt_not_found", f"no receipt {receipt_id} on this till")
    view = receipt_view(receipt)
    view["document"] = document_view(receipt)
    view["events"] = [
        {"type": e.event_type, "hlc": e.hlc, "at_ms": e.timestamp, "metadata": json.loads(e.metadata or "{}")}
        for e in journal.events_for(receipt.id)
    ]
    return jsonify(view)


@bp.post("/reconcile")
@admin_required
def reconcile() -> Response:
    runtime = current_app.extensions["kkt"]
    with runtime.operation():  # reconcile may print waiting receipts: not while draining
        result = runtime.service.reconcile()  # a KktError leaves through the error map
    return jsonify(result)
