"""CORS for the cashier's routes: the POS runs in a browser page of central Odoo and calls this till directly.

Only pages of the origins in ``[http] cors_origins`` (compared exactly with the browser's ``Origin``) may,
and only on the routes in ``CASHIER_PATHS``; admin (Bearer) routes never answer cross-origin, whatever the
configuration says (``init_app`` refuses to start if one is listed). No wildcard is ever sent.

- Preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from an allowed origin: ``204`` with the
  route's methods, the request headers the POS sends (``Content-Type``, ``Idempotency-Key``), a 10-minute
  cache, and ``Access-Control-Allow-Private-Network: true`` when Chrome asks (Private Network Access: the
  POS page is served by central Odoo, the adapter listens on loopback or the store LAN). From any other
  origin: ``403 cors_origin_denied``.
- Actual requests from an allowed origin: every answer, problem documents included (so the POS can read
  the error ``code``), carries ``Access-Control-Allow-Origin: <origin>``, ``Vary: Origin`` and exposes
  ``Idempotent-Replayed``. A state-changing request (POST) carrying any other ``Origin`` is refused with
  ``403 cors_origin_denied`` before anything happens: a page of another site cannot print, open or close
  a shift through the cashier's browser even with a "simple" request the browser sends without asking.
  Requests without ``Origin`` (kktctl, scripts, the test client) are not browsers' and pass as before.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from kkt_adapter.config import HttpConfig
from kkt_adapter.web.errors import Problem

#: The routes the POS calls from the browser. A new cashier route is one more line here (and its
#: ``options`` operation in docs/api/openapi.yaml, which tests/unit/test_openapi.py checks against this).
CASHIER_PATHS = (
    "/v1/kkt/receipt",
    "/v1/kkt/shift/open",
    "/v1/kkt/shift/close",
    "/v1/kkt/report/x",
    "/v1/kkt/cash/in",
    "/v1/kkt/cash/out",
    "/v1/kkt/fn",
    "/v1/kkt/buffer/status",
    "/v1/health",
)
#: Request headers the POS sends besides the CORS-safelisted ones.
ALLOW_HEADERS = "Content-Type, Idempotency-Key"
#: Response headers the POS may read besides the CORS-safelisted ones.
EXPOSE_HEADERS = "Idempotent-Replayed"
#: How long a browser may reuse a preflight answer (seconds; Chrome caps it at 7200).
MAX_AGE_SECONDS = 600
#: Methods that change nothing: answered to any origin (the browser keeps the answer from the page).
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: Methods Flask adds to every route by itself.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def cashier_methods(app: Flask) -> dict[str, str]:
    """Served cashier path -> its methods as ``Access-Control-Allow-Methods`` says them.

    ``RuntimeError`` when a listed path is served by an admin view: cross-origin access to it is never
    granted, so a wrong line here stops the adapter instead of opening the admin API to a browser."""
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule not in CASHIER_PATHS:
            continue
        if getattr(app.view_functions[rule.endpoint], "admin_required", False):
            raise RuntimeError(f"{rule.rule} is an admin route: it cannot be in web/cors.py CASHIER_PATHS")
        methods.setdefault(rule.rule, set()).update(set(rule.methods or ()) - IMPLICIT_METHODS)
    return {path: ", ".join(sorted(names)) for path, names in methods.items()}


def init_app(app: Flask, http: HttpConfig) -> None:
    """Install the CORS hooks; call after every blueprint is registered."""
    origins = frozenset(http.cors_origins)
    allowed_methods = cashier_methods(app)

    @app.before_request
    def _cors_gate() -> Response | None:
        origin = request.headers.get("Origin")
        if origin is None or request.path not in allowed_methods:
            return None
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        if origin not in origins and (preflight or request.method not in SAFE_METHODS):
            raise Problem(
                "cors_origin_denied",
                f"pages of {origin[:100]!r} may not call this till: its [http] cors_origins does not list "
                "that origin",
            )
        if not preflight:
            return None
        g.cors_preflight = True
        resp = Response(status=204)
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Methods"] = allowed_methods[request.path]
        resp.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        resp.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
        if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            resp.headers["Access-Control-Allow-Private-Network"] = "true"
        resp.vary.add("Origin")
        return resp

    @app.after_request
    def _cors_headers(resp: Response) -> Response:
        if not origins or request.path not in allowed_methods or g.get("cors_preflight"):
            return resp
        resp.vary.add("Origin")  # the answer differs by Origin: a cache must not hand it to another page
        origin = request.headers.get("Origin")
        if origin in origins:
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return resp
