"""The till API of docs/api/odoo-till-contract.md: printed receipts and heartbeats from the tills.

``POST /optics_pos_ru54fz/v1/receipts`` records 1..100 receipts in request order, each answered
``created``, ``duplicate`` or ``rejected`` (``optics.fiscal.document._intake``); ``POST
/optics_pos_ru54fz/v1/heartbeat`` stores the till's status and, when the till asks (``fiscal_check``), answers
which of its fiscal documents this server holds, so a till sends again what a restore from backup lost
(``_fiscal_documents``). Every call carries the till's bearer token.
Errors are problem documents (tools/problem.py); Odoo's own 404/405/413 on these routes too
(models/ir_http.py). Each request is one transaction: a batch is recorded entirely or not at all, so a
server killed in the middle of it loses nothing the till will not send again.
"""

import time

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..tools import strict_json
from ..tools.heartbeat import fiscal_checks
from ..tools.problem import ApiError, json_response, problem
from ..tools.receipt_check import HLC, MAX_BATCH, MAX_POS_ID, is_int

API = "/optics_pos_ru54fz/v1"
#: The contract's body limit (413 above it): 100 receipts of the largest document fit many times over.
MAX_BODY_BYTES = 16 * 1024 * 1024


def _now_ms():
    return int(time.time() * 1000)


def _body():
    """The request body as a JSON object, else 400 (``request`` raises 413 over ``MAX_BODY_BYTES``).

    Cached: when Odoo retries the request after a serialization failure (a concurrent delivery of the
    same receipts), the retry reads the same body again."""
    try:
        body = strict_json.loads(request.httprequest.get_data(cache=True))
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    pos_id = body.get("pos_id")
    if not isinstance(pos_id, str) or not 1 <= len(pos_id) <= MAX_POS_ID:
        raise ApiError(400, f"'pos_id' must be a string of 1..{MAX_POS_ID} characters")
    return body, pos_id


def _till(pos_id):
    """The till of the bearer token: 401 without a valid token, 403 when it belongs to another till."""
    scheme, _sep, token = request.httprequest.headers.get("Authorization", "").partition(" ")
    tills = request.env["pos.offline.buffer.status"]
    till = tills._authenticate_token(token.strip()) if scheme.lower() == "bearer" else tills.browse()
    if not till:
        raise ApiError(
            401,
            "a valid 'Authorization: Bearer <till token>' is required",
            {"WWW-Authenticate": 'Bearer realm="optics_pos_ru54fz"'},
        )
    if till.pos_id != pos_id:
        raise ApiError(403, f"this token belongs to till {till.pos_id!r}, not {pos_id!r}")
    return till


def _fiscal_documents(env, checks):
    """``{fn_number: {"from_fd", "max_fd", "count"}}``: per FN the highest FD recorded (0 = none) and how
    many documents are recorded from ``from_fd`` on.

    Per FN, one statement of two index lookups on UNIQUE(fn_number, fd) (``fn_fd_unique``): the maximum is
    the index's last entry of the FN, the count walks only the range from ``from_fd`` (the till picks it
    within its last two weeks of deliveries), however many documents the FN holds. Read in the request's
    own transaction: every receipt whose delivery was answered before the heartbeat left is visible. By FN,
    not by till: the FN's documents are the till's whatever till record they came under (a KKT moved to
    another till keeps its FN), and an answer narrowed to one till record would have the till send them
    again and again, each answered ``duplicate``."""
    env["optics.fiscal.document"].flush_model(["fn_number", "fd"])  # raw SQL reads what the ORM wrote
    answer = {}
    for fn_number, from_fd in checks:
        env.cr.execute(
            """SELECT (SELECT max(fd) FROM optics_fiscal_document WHERE fn_number = %s),
                      (SELECT count(*) FROM optics_fiscal_document WHERE fn_number = %s AND fd >= %s)""",
            (fn_number, fn_number, from_fd),
        )
        max_fd, count = env.cr.fetchone()
        answer[fn_number] = {"from_fd": from_fd, "max_fd": max_fd or 0, "count": count}
    return answer


class TillApi(http.Controller):
    def _serve(self, handler):
        """One API call: the method checked here (405 as a problem), errors answered as problems."""
        if request.httprequest.method != "POST":
            return problem(
                405, f"{request.httprequest.method} is not allowed here; use POST", {"Allow": "POST"}
            )
        # The till is authenticated by its token, not a session: the work is done (and tracked) as OdooBot.
        request.update_env(user=SUPERUSER_ID)
        try:
            return json_response(handler(*_body()))
        except ApiError as exc:
            return problem(exc.status, exc.detail, exc.headers, exc.code)

    @http.route(
        f"{API}/receipts",
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def receipts(self, **_kwargs):
        return self._serve(self._receipts)

    @http.route(
        f"{API}/heartbeat",
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def heartbeat(self, **_kwargs):
        return self._serve(self._heartbeat)

    @http.route(
        ["/optics_pos_ru54fz", "/optics_pos_ru54fz/<path:_rest>"],
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
    )
    def not_found(self, **_kwargs):
        """Any other path under the API's prefix: a 404 problem, never Odoo's HTML page."""
        return problem(404, f"no till API at {request.httprequest.path}")

    def _receipts(self, body, pos_id):
        items = body.get("receipts")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ApiError(400, f"'receipts' must be a list of 1..{MAX_BATCH} objects")
        if not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "every element of 'receipts' must be a JSON object")
        till = _till(pos_id)
        results = request.env["optics.fiscal.document"]._intake(till, items)
        return {"server_time_ms": _now_ms(), "results": results}

    def _heartbeat(self, body, pos_id):
        hlc, sent_at, status = body.get("hlc"), body.get("sent_at_ms"), body.get("status")
        if not isinstance(hlc, str) or not HLC.fullmatch(hlc):
            raise ApiError(400, "'hlc' must be an HLC timestamp like '001764000000000.00000'")
        if not is_int(sent_at, 0, 2**62):
            raise ApiError(400, "'sent_at_ms' must be a non-negative integer")
        if not isinstance(status, dict):
            raise ApiError(400, "'status' must be a JSON object")
        till = _till(pos_id)
        now_ms = _now_ms()
        till._record_heartbeat(hlc, status, now_ms)
        answer = {"server_time_ms": now_ms}
        # Optional and never refused (tools/heartbeat.py): only a list is answered, even an empty one.
        checks = fiscal_checks(body.get("fiscal_check"))
        if checks is not None:
            answer["fiscal_documents"] = _fiscal_documents(request.env, checks)
        return answer
