"""Bad input gets a precise 4xx problem+json and journals nothing (the KKT is never reached)."""

from __future__ import annotations

import json

import pytest

from kkt_adapter.buffer.models import BufferEvent, IdempotencyKey, Receipt
from kkt_adapter.web import create_app
from tests.conftest import sale_body


@pytest.fixture
def client(make_cfg, tmp_path):
    # The port does not exist: any accidental device access would surface as a buffered receipt.
    cfg = make_cfg(kkt={"port": str(tmp_path / "no-such-tty"), "attempts": 1, "enq_timeout": 0.05})
    app = create_app(cfg, start_background=False)
    return app.test_client()


def post(client, body, key="5b1f7d1e-8d7a-4c1b-9a55-0b7f2a3c4d5e", content_type="application/json", raw=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post("/v1/kkt/receipt", data=data, headers=headers, content_type=content_type)


def assert_nothing_journaled():
    assert Receipt.select().count() == 0
    assert IdempotencyKey.select().count() == 0
    assert BufferEvent.select().count() == 0


def item(**kw):
    base = {"name": "Линза", "price": "100.00", "quantity": 1, "vat": 6}
    base.update(kw)
    return base


CASES = [
    ("missing key", dict(key=None), 400, "idempotency_key_missing", None),
    ("invalid key", dict(key="not-a-uuid"), 400, "idempotency_key_invalid", None),
    ("unknown type", dict(body=sale_body(type="gift")), 422, "invalid_receipt", "type"),
    ("empty items", dict(body=sale_body(items=[])), 422, "invalid_receipt", "items"),
    (
        "negative price",
        dict(body=sale_body(items=[item(price="-5")], payments=[{"method": "cash", "amount": 100}])),
        422,
        "invalid_receipt",
        "items[0].price",
    ),
    (
        "NaN amount",
        dict(
            raw='{"pos_id":"test-till","type":"sale","items":[{"name":"x","price":NaN,"vat":6}],"payments":[]}'
        ),
        400,
        "malformed_json",
        None,
    ),
    (
        "string NaN amount",
        dict(body=sale_body(items=[item(price="NaN")], payments=[{"method": "cash", "amount": 100}])),
        422,
        "invalid_receipt",
        "items[0].price",
    ),
    (
        "huge amount",
        dict(body=sale_body(items=[item(price="1e15")], payments=[{"method": "cash", "amount": "1e15"}])),
        422,
        "invalid_receipt",
        "items[0].price",
    ),
    (
        "total over the receipt cap",
        dict(
            body=sale_body(
                items=[item(price="9000000.00", quantity=2)],
                payments=[{"method": "cash", "amount": "18000000.00"}],
            )
        ),
        422,
        "invalid_receipt",
        "items",
    ),
    (
        "fraction of a kopeck",
        dict(body=sale_body(items=[item(price="1.005")], payments=[{"method": "cash", "amount": "1.005"}])),
        422,
        "invalid_receipt",
        "items[0].price",
    ),
    (
        "payments do not match",
        dict(body=sale_body(payments=[{"method": "card", "amount": "9000.00"}])),
        422,
        "invalid_receipt",
        "payments",
    ),
    (
        "unknown VAT code",
        dict(body=sale_body(items=[item(vat=13)], payments=[{"method": "cash", "amount": 100}])),
        422,
        "invalid_receipt",
        "items[0].vat",
    ),
    (
        "missing VAT",
        dict(
            body=sale_body(items=[{"name": "x", "price": 100}], payments=[{"method": "cash", "amount": 100}])
        ),
        422,
        "invalid_receipt",
        "items[0].vat",
    ),
    (
        "name over 128 characters",
        dict(body=sale_body(items=[item(name="Л" * 129)], payments=[{"method": "cash", "amount": 100}])),
        422,
        "invalid_receipt",
        "items[0].name",
    ),
    (
        "name not printable in cp1251",
        dict(body=sale_body(items=[item(name="Линза 😎")], payments=[{"method": "cash", "amount": 100}])),
        422,
        "invalid_receipt",
        "items[0].name",
    ),
    ("unknown field", dict(body=sale_body(discount=5)), 422, "invalid_receipt", "discount"),
    ("wrong till", dict(body=sale_body(pos_id="other-till")), 422, "invalid_receipt", "pos_id"),
    (
        "wrong content type",
        dict(body=sale_body(), content_type="text/plain"),
        415,
        "unsupported_media_type",
        None,
    ),
    ("malformed JSON", dict(raw='{"pos_id": '), 400, "malformed_json", None),
    ("not UTF-8", dict(raw=b'{"pos_id": "\xff"}'), 400, "malformed_json", None),
    ("body is a list", dict(body=[1, 2]), 422, "invalid_receipt", "$"),
    ("oversized body", dict(raw="{" + " " * 70_000 + "}"), 413, "body_too_large", None),
    (
        "correction without basis",
        dict(body=sale_body(type="correction")),
        422,
        "invalid_receipt",
        "correction",
    ),
    (
        "unknown original receipt",
        dict(body=sale_body(type="refund", original_receipt_id="00000000-0000-4000-8000-000000000000")),
        422,
        "original_not_found",
        None,
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "status", "code", "field"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_precisely_and_journals_nothing(client, name, kwargs, status, code, field):
    kw = dict(kwargs)
    body = kw.pop("body", sale_body())
    resp = post(client, body, **kw)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["detail"]
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    assert_nothing_journaled()


def test_admin_endpoints_require_the_token(client):
    assert client.get("/v1/kkt/receipts").status_code == 401
    resp = client.get("/v1/kkt/receipts", headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    ok = client.get("/v1/kkt/receipts", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert ok.get_json() == []


def test_unknown_route_and_method_are_problems(client):
    assert client.get("/v1/nope").mimetype == "application/problem+json"
    resp = client.get("/v1/kkt/receipt")
    assert resp.status_code == 405
    assert resp.get_json()["code"] == "method_not_allowed"
