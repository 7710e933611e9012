"""RFC 9457 problem documents of the till API (``application/problem+json`` with a stable ``code``).

Every answer of ``/optics_pos_ru54fz/v1/*`` that is not a 200 is one of these, including Odoo's own
404, 405 and 413 on those routes (``models/ir_http.py``), so a till never has to parse an HTML page.
"""

import json
import logging
from http import HTTPStatus

from odoo.http import Response

API_PREFIX = "/optics_pos_ru54fz/"
PROBLEM_TYPE = "application/problem+json"

#: Problem code of each HTTP status the API answers with (docs/api/odoo-till-contract.md, "Errors").
CODES = {
    400: "malformed_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised inside a till API view: answered as a problem document, the transaction rolled back."""

    loglevel = logging.INFO  # odoo.http logs an exception at its ``loglevel``: a till's 4xx is no error

    def __init__(self, status, detail, headers=None, code=None):
        super().__init__(detail)
        self.status = status
        self.code = code or CODES[status]
        self.detail = detail
        self.headers = headers or {}


def problem(status, detail, headers=None, code=None):
    body = {
        "type": f"/problems/{code or CODES[status]}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code or CODES[status],
        "detail": detail,
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_response(payload):
    return Response(json.dumps(payload, ensure_ascii=False), status=200, content_type="application/json")
