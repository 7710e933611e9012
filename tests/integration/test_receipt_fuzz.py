"""Fuzzing the receipt endpoint with hypothesis: arbitrary JSON and mutated valid receipts never give a 5xx.

The KKT port does not exist here, so an accepted receipt is journaled and answered ``buffered`` (200);
everything else must be a 4xx problem+json that journals nothing.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kkt_adapter.buffer.models import Receipt
from kkt_adapter.fiscal import request as rq
from kkt_adapter.web import create_app
from tests.conftest import sale_body

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=200),
    st.sampled_from(["NaN", "Infinity", "-0", "1e400", "0.001", "", "cash", "card", "sale", "refund"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=30,
)
FIELDS = sorted(rq.TOP_FIELDS - {"correction"})
ITEM_FIELDS = sorted(rq.ITEM_FIELDS)


@st.composite
def mutated_receipts(draw):
    body = sale_body()
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", "item", "payment", "drop"]))
        if where == "top":
            body[draw(st.sampled_from(FIELDS))] = draw(json_values)
        elif where == "item" and isinstance(body.get("items"), list) and body["items"]:
            item = body["items"][0]
            if isinstance(item, dict):
                item[draw(st.sampled_from(ITEM_FIELDS))] = draw(json_values)
        elif where == "payment" and isinstance(body.get("payments"), list) and body["payments"]:
            pay = body["payments"][0]
            if isinstance(pay, dict):
                pay[draw(st.sampled_from(["method", "amount"]))] = draw(json_values)
        else:
            body.pop(draw(st.sampled_from(FIELDS)), None)
    return body


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from kkt_adapter import config

    tmp = tmp_path_factory.mktemp("fuzz")
    cfg = config.load(
        environ={"KKT_ADAPTER_CONFIG": str(tmp / "none.toml")},
        pos_id="test-till",
        buffer={"path": str(tmp / "buffer.db"), "capacity": 100000},
        kkt={"port": str(tmp / "no-tty"), "attempts": 1, "enq_timeout": 0.01},
    )
    return create_app(cfg, start_background=False).test_client()


def check(client, payload: bytes) -> None:
    before = Receipt.select().count()
    resp = client.post(
        "/v1/kkt/receipt",
        data=payload,
        headers={"Idempotency-Key": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert resp.status_code < 500, resp.get_data(as_text=True)
    if resp.status_code >= 400:
        assert resp.mimetype == "application/problem+json"
        assert resp.get_json()["code"]
        assert Receipt.select().count() == before
    else:
        assert resp.get_json()["status"] in ("printed", "buffered")
        assert Receipt.select().count() == before + 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_arbitrary_json_never_gives_5xx(client, value):
    check(client, json.dumps(value).encode())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_receipts())
def test_mutated_receipts_never_give_5xx(client, body):
    check(client, json.dumps(body).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_give_5xx(client, raw):
    check(client, raw)
