"""CORS of the cashier routes (web/cors.py) through the Flask test client, with no KKT behind the app.

The POS page of central Odoo calls the till from the browser: only the origins of ``[http] cors_origins``
get in, only on the cashier routes, every answer to them (problems included) is readable, and a browser's
POST from any other page is refused before anything is journaled or sent to the KKT.
"""

from __future__ import annotations

import pytest

from kkt_adapter.buffer.models import Receipt
from kkt_adapter.web import cors, create_app
from tests.conftest import sale_body

ODOO = "https://erp.example.ru"
EVIL = "https://evil.example"


@pytest.fixture
def make_app(make_cfg, tmp_path):
    made = []

    def make(origins=(ODOO,)):
        # The port does not exist and no background thread starts: nothing here reaches a KKT.
        cfg = make_cfg(
            kkt={"port": str(tmp_path / "no-such-tty"), "attempts": 1, "enq_timeout": 0.05},
            http={"cors_origins": list(origins)},
        )
        app = create_app(cfg, start_background=False)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["kkt"].device.close()


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def cors_headers(resp) -> set[str]:
    return {name for name, _ in resp.headers.items() if name.startswith("Access-Control-")}


def preflight(client, path, origin=ODOO, method="POST", **headers):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type,idempotency-key",
            **headers,
        },
    )


@pytest.mark.parametrize("path", cors.CASHIER_PATHS)
def test_a_preflight_from_the_odoo_origin_is_allowed_on_every_cashier_route(client, path):
    resp = preflight(client, path)
    assert resp.status_code == 204 and resp.data == b""
    assert resp.headers["Access-Control-Allow-Origin"] == ODOO
    assert resp.headers["Vary"] == "Origin"
    method = "GET" if path in ("/v1/kkt/fn", "/v1/kkt/buffer/status", "/v1/health") else "POST"
    assert resp.headers["Access-Control-Allow-Methods"] == method
    assert resp.headers["Access-Control-Allow-Headers"] == "Content-Type, Idempotency-Key"
    assert resp.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Private-Network" not in resp.headers


def test_chromes_private_network_access_is_granted_to_the_odoo_origin_only(client):
    pna = {"Access-Control-Request-Private-Network": "true"}
    resp = preflight(client, "/v1/kkt/receipt", **pna)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Private-Network"] == "true"
    denied = preflight(client, "/v1/kkt/receipt", origin=EVIL, **pna)
    assert denied.status_code == 403
    assert "Access-Control-Allow-Private-Network" not in denied.headers


@pytest.mark.parametrize("origin", [EVIL, "null", "https://erp.example.ru:443", "https://ERP.example.ru"])
def test_a_preflight_from_any_other_origin_is_a_403_problem(client, origin):
    resp = preflight(client, "/v1/kkt/shift/close", origin=origin)
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "cors_origin_denied"
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_admin_routes_never_answer_cross_origin(client):
    for path, method in (
        ("/v1/kkt/receipts", "GET"),
        ("/v1/kkt/reconcile", "POST"),
        ("/v1/kkt/drain", "POST"),
        ("/v1/kkt/buffer/sync", "POST"),
        ("/v1/kkt/dlq", "GET"),
        ("/metrics", "GET"),
    ):
        resp = preflight(client, path, method=method, **{"Access-Control-Request-Private-Network": "true"})
        assert cors_headers(resp) == set(), path
        if method == "GET":  # read-only: the admin answers themselves carry no CORS header either
            actual = client.get(path, headers={"Origin": ODOO, "Authorization": "Bearer s3cret"})
            assert actual.status_code == 200 and "Access-Control-Allow-Origin" not in actual.headers, path


def test_an_admin_route_listed_as_a_cashier_route_stops_the_adapter(client, monkeypatch):
    monkeypatch.setattr(cors, "CASHIER_PATHS", (*cors.CASHIER_PATHS, "/v1/kkt/reconcile"))
    with pytest.raises(RuntimeError, match="/v1/kkt/reconcile is an admin route"):
        cors.cashier_methods(client.application)


def test_answers_to_the_odoo_origin_are_readable_problems_included(client):
    ok = client.get("/v1/kkt/buffer/status", headers={"Origin": ODOO})
    assert ok.status_code == 200
    for resp in (
        ok,
        client.get("/v1/health", headers={"Origin": ODOO}),
        # a problem the POS must read: the receipt is invalid (nothing journaled, the KKT not asked)
        client.post(
            "/v1/kkt/receipt",
            json=sale_body(pos_id="another-till"),
            headers={"Origin": ODOO, "Idempotency-Key": "5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e"},
        ),
        client.post("/v1/kkt/receipt", json=sale_body(), headers={"Origin": ODOO}),  # no key: 400
        client.post("/v1/kkt/shift/open", json={"cashier": {"name": ""}}, headers={"Origin": ODOO}),  # 422
        client.get("/v1/kkt/receipt", headers={"Origin": ODOO}),  # 405 from the router
    ):
        assert resp.headers["Access-Control-Allow-Origin"] == ODOO, resp.get_data(as_text=True)
        assert resp.headers["Vary"] == "Origin"
        assert resp.headers["Access-Control-Expose-Headers"] == "Idempotent-Replayed"
        if resp.status_code >= 400:
            assert resp.mimetype == "application/problem+json" and resp.get_json()["code"]
    assert Receipt.select().count() == 0


def test_a_browsers_post_from_another_page_is_refused_before_anything_happens(client):
    key = {"Idempotency-Key": "5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e"}
    for path, body in (
        ("/v1/kkt/receipt", sale_body()),
        ("/v1/kkt/shift/open", None),
        ("/v1/kkt/shift/close", None),
        ("/v1/kkt/report/x", None),
        ("/v1/kkt/cash/in", {"amount": "100.00"}),
    ):
        # a "simple" request (text/plain, no custom header) that a browser sends without a preflight
        resp = client.post(path, data="" if body is None else str(body), headers={"Origin": EVIL, **key})
        assert resp.status_code == 403 and resp.get_json()["code"] == "cors_origin_denied", path
        assert "Access-Control-Allow-Origin" not in resp.headers
    assert Receipt.select().count() == 0
    assert client.application.extensions["kkt"].service.health.snapshot().state == "unknown"  # KKT not asked


def test_reading_from_another_page_is_answered_but_not_readable(client):
    resp = client.get("/v1/kkt/buffer/status", headers={"Origin": EVIL})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers and resp.headers["Vary"] == "Origin"


def test_without_origins_configured_no_page_gets_in_and_other_clients_are_unaffected(make_app):
    client = make_app(origins=()).test_client()
    assert preflight(client, "/v1/kkt/receipt").status_code == 403
    assert client.post("/v1/kkt/shift/open", headers={"Origin": ODOO}).status_code == 403
    plain = client.get("/v1/kkt/buffer/status")  # kktctl, scripts: no Origin
    assert plain.status_code == 200
    assert cors_headers(plain) == set()
    assert "Vary" not in plain.headers
