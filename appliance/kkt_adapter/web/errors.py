"""Every error leaves as ``application/problem+json`` (RFC 9457) with a stable machine ``code``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from kkt_adapter.buffer import storage
from kkt_adapter.runtime import ShuttingDown

PROBLEM_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extra = extra


def problem_response(
    status: int, code: str, title: str, detail: str, headers: dict | None = None, **extra: Any
) -> Response:
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


#: Codes for the HTTP errors Flask/werkzeug raise on their own (routing, body size, methods).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.code, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(ShuttingDown)
    def _shutting_down(exc: ShuttingDown) -> Response:
        return problem_response(503, "shutting_down", "Till shutting down", str(exc))

    @app.errorhandler(storage.StorageFull)
    def _storage_full(exc: storage.StorageFull) -> Response:
        # RFC 4918 507 Insufficient Storage: nothing of this request was accepted; retry once space is freed.
        return problem_response(507, "storage_full", "Till disk full", str(exc), free_bytes=exc.free_bytes)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A disk-full failure outside db.write_transaction (an autocommit write) is still a 507; anything
        # else goes on to Flask's 500 handling and the log.
        if storage.is_disk_full(exc):
            return _storage_full(storage.full_error(exc, "the request was not carried out"))
        raise exc

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.code or 500, "http_error")
        detail = exc.description or exc.name
        if exc.code == 413:
            detail = f"request body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = None
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            # RFC 9110 §15.5.6: a 405 names the methods the resource does support.
            headers = {"Allow": ", ".join(sorted(exc.valid_methods))}
        return problem_response(exc.code or 500, code, exc.name, detail, headers=headers)
