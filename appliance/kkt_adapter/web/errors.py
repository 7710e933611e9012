"""Every error leaves as ``application/problem+json`` (RFC 9457) with a stable machine ``code``.

``PROBLEMS`` is the one table from a code to its HTTP status and title. Domain code raises
``Refusal`` subclasses (codes, no HTTP), the KKT boundary raises ``KktError``s (mapped by class in
``KKT_ERRORS``), views raise ``Problem(code, detail)``; werkzeug's own errors map by status
(``HTTP_CODES``). The OpenAPI document's code list is checked against this table
(tests/unit/test_openapi.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from kkt_adapter.buffer import storage
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktTimeout
from kkt_adapter.refusal import Refusal

PROBLEM_TYPE = "application/problem+json"


class Spec(NamedTuple):
    status: int
    title: str  # short English summary for logs; the POS shows its own Russian text for the code


PROBLEMS: dict[str, Spec] = {
    # --- the request itself (web layer)
    "idempotency_key_missing": Spec(400, "Idempotency-Key required"),
    "idempotency_key_invalid": Spec(400, "Invalid Idempotency-Key"),
    "malformed_json": Spec(400, "Malformed JSON"),
    "bad_parameter": Spec(400, "Bad parameter"),
    "unsupported_media_type": Spec(415, "Unsupported media type"),
    "body_too_large": Spec(413, "Request Entity Too Large"),
    "unauthorized": Spec(401, "Admin token required"),
    "admin_disabled": Spec(403, "Admin API disabled"),
    "receipt_not_found": Spec(404, "Receipt not found"),
    "not_on_metrics_listener": Spec(404, "Not served on the metrics listener"),
    # a browser page of an origin not in [http] cors_origins (web/cors.py): preflight or state-changing call
    "cors_origin_denied": Spec(403, "Origin not allowed"),
    # --- werkzeug's own errors (routing, methods); titles are werkzeug's names
    "bad_request": Spec(400, "Bad Request"),
    "forbidden": Spec(403, "Forbidden"),
    "not_found": Spec(404, "Not Found"),
    "method_not_allowed": Spec(405, "Method Not Allowed"),
    # --- receipts (fiscal/request.py, saga.py, service.py; buffer/journal.py, advances.py)
    "invalid_receipt": Spec(422, "Invalid receipt"),
    "idempotency_conflict": Spec(422, "Idempotency-Key reused"),
    "original_not_found": Spec(422, "Original receipt unknown"),
    "original_not_refundable": Spec(422, "Original cannot be refunded"),
    # 409: a state of the world that will change (the sale gets delivered), not a bad request
    "original_not_delivered": Spec(409, "Original sale not delivered yet"),
    "refund_exceeds_original": Spec(422, "Refund exceeds the sale"),
    # an advance offset (FFD 1215) above the advance this till journaled for the job (buffer/advances.py)
    "prepayment_exceeds_advance": Spec(422, "Prepayment offset exceeds the advance"),
    "kkt_rejected": Spec(422, "The KKT refused this receipt"),
    # 503: the POS retries later with the same key; nothing was accepted
    "buffer_full": Spec(503, "Offline buffer full"),
    # --- the till as a whole
    "shutting_down": Spec(503, "Till shutting down"),
    # RFC 4918 507 Insufficient Storage: nothing of this request was accepted; retry once space is freed
    "storage_full": Spec(507, "Till disk full"),
    # --- shifts and reports (fiscal/service.py)
    "shift_already_open": Spec(409, "Operation not possible now"),
    "shift_not_open": Spec(409, "Operation not possible now"),
    "invalid_shift_request": Spec(422, "Invalid shift request"),
    # --- cash in / cash out (fiscal/cash_request.py, fiscal/cash.py)
    "invalid_cash_operation": Spec(422, "Invalid cash operation"),
    # 409: the drawer holds less than the cash out asks for; final for this key (replayed)
    "insufficient_cash": Spec(409, "Not enough cash in the drawer"),
    # --- the KKT (KKT_ERRORS)
    "kkt_refused": Spec(409, "The KKT refused"),
    "kkt_timeout": Spec(504, "The KKT did not answer"),
    "kkt_unavailable": Spec(503, "KKT unavailable"),
    # --- delivery (sync/lock.py, buffer/deliveries.py)
    "sync_in_progress": Spec(409, "Sync already running"),
    "dlq_entry_not_found": Spec(404, "DLQ entry not found"),
}

#: The KKT boundary's errors by class, most specific first (``kkt/errors.py``).
KKT_ERRORS: tuple[tuple[type[KktError], str], ...] = (
    (KktDeviceError, "kkt_refused"),
    (KktTimeout, "kkt_timeout"),
    (KktError, "kkt_unavailable"),
)

#: Codes of the HTTP errors werkzeug raises on its own, by status; any other status is ``http_error``.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class Problem(Exception):
    """Raise from a view to answer with the problem ``code`` (status and title from ``PROBLEMS``)."""

    def __init__(self, code: str, detail: str, **extra: Any):
        if code not in PROBLEMS:
            raise KeyError(f"problem code {code!r} is not in web.errors.PROBLEMS")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


def problem_body(code: str, detail: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """The status and RFC 9457 body for ``code``."""
    spec = PROBLEMS[code]
    body = {"type": f"/problems/{code}", "title": spec.title, "status": spec.status, "code": code}
    return spec.status, {**body, "detail": detail, **extra}


def problem_response(code: str, detail: str, headers: dict | None = None, **extra: Any) -> Response:
    status, body = problem_body(code, detail, **extra)
    return raw_problem(status, body, headers)


def raw_problem(status: int, body: dict[str, Any], headers: dict | None = None) -> Response:
    """A problem document built elsewhere (a stored answer, werkzeug's own errors)."""
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def kkt_code(exc: KktError) -> str:
    return next(code for cls, code in KKT_ERRORS if isinstance(exc, cls))


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.code, exc.detail, **exc.extra)

    @app.errorhandler(Refusal)
    def _refusal(exc: Refusal) -> Response:
        return problem_response(exc.code, exc.detail, **exc.extra)

    @app.errorhandler(KktError)
    def _kkt(exc: KktError) -> Response:
        if isinstance(exc, KktDeviceError):
            return problem_response("kkt_refused", exc.description, device_code=exc.code)
        return problem_response(kkt_code(exc), str(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A disk-full failure outside connection.write_transaction (an autocommit write) is still a 507;
        # anything else goes on to Flask's 500 handling and the log.
        if storage.is_disk_full(exc):
            return _refusal(storage.full_error(exc, "the request was not carried out"))
        raise exc

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, "http_error")
        detail = exc.description or exc.name
        if status == 413:
            detail = f"request body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = None
        if status == 405 and getattr(exc, "valid_methods", None):
            # RFC 9110 §15.5.6: a 405 names the methods the resource does support.
            headers = {"Allow": ", ".join(sorted(exc.valid_methods))}
        # werkzeug's status and name: a 401 it raises is not the admin check's "Admin token required".
        body = {"type": f"/problems/{code}", "title": exc.name, "status": status, "code": code}
        return raw_problem(status, {**body, "detail": detail}, headers)
