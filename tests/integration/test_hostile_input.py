"""Hostile bodies and requests (issue 8): deep nesting, lone surrogates, wrong methods, bad query values.

The adapter (Flask app, no device reached) and both stand-ins (real processes) answer 4xx problem+json,
never a 500, and the Odoo stand-in never answers ``duplicate`` for a receipt it did not make durable.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from kkt_adapter.buffer.models import Receipt
from kkt_adapter.web import create_app
from tests.conftest import sale_body
from tests.kit.standins.common import StandinProcess

ADMIN = {"Authorization": "Bearer s3cret"}
# Far past Python's recursion limit, yet under the adapter's 64 KiB body limit.
DEEP = "[" * 20_000 + "]" * 20_000
SURROGATE_SALE = json.dumps(sale_body(), ensure_ascii=False).replace("Футляр", "\\ud800")
TOKEN = "any-till-token"


@pytest.fixture
def client(make_cfg, tmp_path):
    cfg = make_cfg(kkt={"port": str(tmp_path / "no-such-tty"), "attempts": 1, "enq_timeout": 0.05})
    return create_app(cfg, start_background=False).test_client()


def post_raw(client, raw: str):
    return client.post(
        "/v1/kkt/receipt",
        data=raw.encode("utf-8", "surrogatepass"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "raw", [DEEP, '{"a":' * 50 + "1" + "}" * 50, SURROGATE_SALE], ids=["deep", "depth-50", "surrogate"]
)
def test_adapter_answers_hostile_bodies_with_400_and_journals_nothing(client, raw):
    resp = post_raw(client, raw)
    assert resp.status_code == 400, resp.data[:200]
    assert resp.mimetype == "application/problem+json"
    assert resp.json["code"] == "malformed_json"
    assert Receipt.select().count() == 0


def test_adapter_dlq_notes_are_parsed_as_strictly(client):
    resp = client.post(
        f"/v1/kkt/dlq/{uuid.uuid4()}/retry", data=DEEP, headers=ADMIN, content_type="application/json"
    )
    assert resp.status_code == 400 and resp.json["code"] == "malformed_json"


def test_405_names_the_allowed_methods(client):
    resp = client.get("/v1/kkt/receipt")
    assert resp.status_code == 405
    assert resp.mimetype == "application/problem+json"
    assert "POST" in {m.strip() for m in resp.headers["Allow"].split(",")}


@pytest.mark.parametrize("query", ["status=AAA", "fiscal_status=done", "limit=0", "limit=x"])
def test_bad_list_filters_are_400_naming_the_parameter(client, query):
    resp = client.get(f"/v1/kkt/receipts?{query}", headers=ADMIN)
    assert resp.status_code == 400, resp.json
    assert resp.json["code"] == "bad_parameter"
    assert query.split("=")[0] in resp.json["detail"]


def test_good_list_filters_still_work(client):
    assert client.get("/v1/kkt/receipts?status=pending&fiscal_status=printed", headers=ADMIN).json == []


# ---- the stand-ins ------------------------------------------------------------------------------


def odoo_receipt(fd: int, name: str = "Оправа") -> dict:
    return {
        "receipt_id": str(uuid.uuid4()),
        "fn_number": "9999078900004321",
        "fd": fd,
        "fiscal_sign": 3_735_928_559,
        "issued_at": "2026-11-23T12:00:00+03:00",
        "kind": "sale",
        "total": 940_000,
        "original_receipt_id": None,
        "hlc": "001795470000000.00001",
        "document": {"type": "sale", "items": [{"name": name}]},
    }


def post_odoo(proc: StandinProcess, raw: str) -> requests.Response:
    return requests.post(
        proc.url + "/optics_pos_ru54fz/v1/receipts",
        data=raw.encode("utf-8", "surrogatepass"),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )


@pytest.mark.parametrize("kind", ["ofd", "odoo"])
def test_standins_answer_deep_nesting_with_400(kind):
    proc = StandinProcess.start(kind, args=["--token", TOKEN] if kind == "odoo" else [])
    try:
        path = "/optics_pos_ru54fz/v1/receipts" if kind == "odoo" else "/v1/documents"
        resp = requests.post(
            proc.url + path, data=DEEP, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert resp.status_code == 400, resp.text[:200]
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        assert resp.json()["code"] == "malformed_body"
        wrong = requests.get(proc.url + path, timeout=5)
        assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    finally:
        proc.stop()


def test_odoo_standin_refuses_a_lone_surrogate_and_never_calls_it_a_duplicate(tmp_path):
    proc = StandinProcess.start("odoo", state_dir=tmp_path, args=["--token", TOKEN])
    try:
        good, bad = odoo_receipt(1), odoo_receipt(2, name="\ud800")
        raw = json.dumps({"pos_id": "till-a", "receipts": [good, bad]})  # ensure_ascii: "\\ud800" escape
        first = post_odoo(proc, raw)
        assert first.status_code == 400, first.text[:300]
        assert first.json()["code"] == "malformed_body"
        # The batch was refused whole: nothing recorded, so a corrected re-send is created, not duplicate.
        fixed = json.dumps({"pos_id": "till-a", "receipts": [good, odoo_receipt(2)]})
        second = post_odoo(proc, fixed)
        assert [r["status"] for r in second.json()["results"]] == ["created", "created"]
    finally:
        proc.stop()
    # What was answered `created` survived the restart: a re-send is `duplicate` only now.
    again = StandinProcess.start("odoo", state_dir=tmp_path, args=["--token", TOKEN])
    try:
        third = post_odoo(again, fixed)
        assert [r["status"] for r in third.json()["results"]] == ["duplicate", "duplicate"]
    finally:
        again.stop()


def test_a_failed_journal_write_is_not_remembered_by_the_odoo_standin(tmp_path):
    proc = StandinProcess.start("odoo", state_dir=tmp_path, args=["--token", TOKEN])
    journal = tmp_path / "odoo.jsonl"
    try:
        body = json.dumps({"pos_id": "till-a", "receipts": [odoo_receipt(1)]})
        journal.unlink(missing_ok=True)
        journal.mkdir()  # the journal cannot be appended to: storage failure at the stand-in
        failed = post_odoo(proc, body)
        assert failed.status_code == 500
        journal.rmdir()
        retried = post_odoo(proc, body)
        assert [r["status"] for r in retried.json()["results"]] == ["created"]  # not `duplicate`
    finally:
        proc.stop()
