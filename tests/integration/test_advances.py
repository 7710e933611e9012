"""A glasses job end to end over HTTP, the Shtrih-M driver and the emulator on a real pty: the advance receipt
(1214 = 2), the final receipt (1214 = 4) paid by the offset (1215, FF45 slot 13) plus cash, tag 1192 in both,
the refusals as problem+json, concurrency, and what the OFD message and Odoo's payload carry."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from kkt_emulator.fn import build_document_message

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import Delivery
from kkt_adapter.kkt.errors import KktDeviceError
from kkt_adapter.kkt.shtrih_receipt import receipt_plan
from kkt_adapter.kkt.types import FiscalItem, FiscalReceipt, SettlementKind
from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as E
from kkt_adapter.sync.targets import odoo_receipt
from kkt_adapter.web import create_app
from tests.integration.conftest import fast_kkt
from tests.unit.test_advance_request import JOB, advance, final


@pytest.fixture
def app(make_cfg, kkt_emulator):
    application = create_app(make_cfg(kkt=fast_kkt(kkt_emulator.port)), start_background=False)
    yield application
    application.extensions["kkt"].device.close()


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, body, key=None):
    return client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def signed_receipts(emulator) -> list[dict]:
    return [d for d in emulator.control.journal() if d["type"] in (3, 31)]


def tags(tlvs: list[tuple[int, bytes]]) -> dict[int, bytes]:
    return dict(tlvs)


def test_advance_then_final_receipt_carry_1214_1192_and_the_offset_in_slot_13(client, kkt_emulator):
    first = post(client, advance())
    assert first.status_code == 200 and first.get_json()["status"] == "printed"
    final_body = final(offset="3000.00", cash="5000.00")
    second = post(client, final_body)
    assert second.status_code == 200 and second.get_json()["status"] == "printed"

    advance_doc, final_doc = signed_receipts(kkt_emulator)
    assert [i["payment_method"] for i in advance_doc["items"]] == [2]  # 1214
    assert [i["payment_method"] for i in final_doc["items"]] == [4]
    for doc in (advance_doc, final_doc):
        assert {t["tag"]: t["value"] for t in doc["tlvs"]}[1192] == JOB
    assert advance_doc["payments"]["prepayment"] == 0 and advance_doc["payments"]["electronic"] == 300000
    assert final_doc["payments"]["slots"][13] == 300000  # FF45 payment slot 13 = tag 1215
    assert final_doc["payments"]["prepayment"] == 300000 and final_doc["payments"]["cash"] == 500000
    assert final_doc["total"] == 800000 and final_doc["change"] == 0

    # The FN's message for the OFD: 1215 beside 1031 / 1081, 1192 and each item's 1214.
    message = codec.decode_tlvs(build_document_message(final_doc, final_doc["fn_number"]))
    (doc_type, body), = message  # fmt: skip
    fields = codec.decode_tlvs(body)
    found = tags(fields)
    assert doc_type == 3
    assert codec.decode_uint(found[1215]) == 300000 and codec.decode_uint(found[1031]) == 500000
    assert codec.decode_text(found[1192]) == JOB
    items = [tags(codec.decode_tlvs(value)) for tag, value in fields if tag == 1059]
    assert [codec.decode_uint(item[1214]) for item in items] == [4]

    # The till relays that very message to the OFD.
    app_service = client.application.extensions["kkt"].service
    app_service.relay()
    delivery = Delivery.get(Delivery.target == "ofd", Delivery.fd == final_doc["fd"])
    assert bytes(delivery.payload) == build_document_message(final_doc, final_doc["fn_number"])


def test_the_odoo_payload_carries_the_job_and_the_offset_in_kopecks(client):
    post(client, advance())
    key = str(uuid.uuid4())
    answer = post(client, final(offset="3000.00"), key).get_json()
    payload = odoo_receipt(journal.get_receipt(answer["receipt_id"]), key)
    assert (payload["job_ref"], payload["prepayment"], payload["total"]) == (JOB, 300000, 800000)
    assert {"method": "prepayment", "amount": "3000.00"} in payload["document"]["payments"]
    assert payload["document"]["job_ref"] == JOB
    plain = post(client, advance(job_ref=None)).get_json()
    payload = odoo_receipt(journal.get_receipt(plain["receipt_id"]))
    assert (payload["job_ref"], payload["prepayment"]) == (None, 0)


def test_an_offset_above_the_advance_is_422_and_leaves_nothing_behind(client, kkt_emulator):
    post(client, advance())
    resp = post(client, final(offset="3000.01", cash="4999.99"))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert problem["code"] == "prepayment_exceeds_advance"
    assert "3000.01" in problem["detail"] and "3000.00" in problem["detail"]
    assert (problem["job_ref"], problem["prepayment"], problem["held"]) == (JOB, "3000.01", "3000.00")
    assert len(signed_receipts(kkt_emulator)) == 1 and len(journal.list_receipts()) == 1
    assert post(client, final(offset="3000.00")).status_code == 200
    again = post(client, final(offset="0.01", cash="7999.99"))
    assert again.status_code == 422 and again.get_json()["held"] == "0.00"


def test_an_invalid_offset_is_422_invalid_receipt_listing_the_fields(client):
    body = final()
    body["type"] = "refund"
    body["original_receipt_id"] = str(uuid.uuid4())
    del body["job_ref"]
    resp = post(client, body)
    assert resp.status_code == 422 and resp.get_json()["code"] == "invalid_receipt"
    assert {e["field"] for e in resp.get_json()["errors"]} == {"payments", "job_ref"}


def test_the_receipt_view_shows_the_job_and_the_offset(client):
    post(client, advance())
    rid = post(client, final(offset="3000.00")).get_json()["receipt_id"]
    view = client.get(f"/v1/kkt/receipt/{rid}", headers={"Authorization": "Bearer s3cret"}).get_json()
    assert (view["job_ref"], view["prepayment"], view["total"]) == (JOB, "3000.00", "8000.00")


def test_an_idempotent_replay_of_an_offset_returns_the_original(client, kkt_emulator):
    post(client, advance())
    key = str(uuid.uuid4())
    first = post(client, final(offset="3000.00"), key)
    again = post(client, final(offset="3000.00"), key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(signed_receipts(kkt_emulator)) == 2


def test_two_concurrent_offsets_against_one_advance_one_is_accepted(app, kkt_emulator):
    app.test_client().post("/v1/kkt/receipt", json=advance(), headers={"Idempotency-Key": str(uuid.uuid4())})
    start = threading.Barrier(2)
    statuses: list[int] = []

    def offset() -> None:
        start.wait()
        statuses.append(post(app.test_client(), final(offset="2000.00", cash="6000.00")).status_code)

    threads = [threading.Thread(target=offset) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 422]
    assert [d["payments"]["prepayment"] for d in signed_receipts(kkt_emulator)] == [0, 200000]


def _receipt(prepayment: int, cash: int = 0, electronic: int = 0, job_ref: str | None = JOB) -> FiscalReceipt:
    item = FiscalItem(name="Очки по рецепту", price=800000, quantity=Decimal(1), amount=800000, vat=6)
    return FiscalReceipt(
        kind=SettlementKind.SALE,
        items=(item,),
        cash=cash,
        electronic=electronic,
        prepayment=prepayment,
        job_ref=job_ref,
        text="R-advance",
    )


def test_the_plan_puts_1192_before_the_close_and_the_offset_in_slot_13():
    plan = receipt_plan(_receipt(300000, cash=500000), password=30)
    documents = [values["tlv"] for command, values in plan if command is cmd.TLV_TO_DOCUMENT]
    assert documents == [codec.tlv_string(1192, JOB)]
    command, close = plan[-1]
    assert command is cmd.CLOSE_RECEIPT_V2
    assert close["payments"] == [500000] + [0] * 12 + [300000, 0, 0]


@pytest.mark.parametrize(
    ("prepayment", "cash", "electronic", "error"),
    [
        (300000, 400000, 0, E.PAYMENT_LESS_THAN_TOTAL),  # 7 000.00 paid of 8 000.00
        (500000, 0, 400000, E.ELECTRONIC_OVER_TOTAL),  # non-cash 9 000.00 above 8 000.00: no change
    ],
)
def test_the_emulator_counts_the_offset_as_paid_and_refuses_a_mismatch(
    driver, kkt_emulator, prepayment, cash, electronic, error
):
    driver.open_shift()
    with pytest.raises(KktDeviceError) as refused:
        driver.fiscalize(_receipt(prepayment, cash, electronic))
    assert refused.value.code == error
    assert signed_receipts(kkt_emulator) == []
    result = driver.fiscalize(_receipt(800000, job_ref=None))  # wholly by the offset: paid in full
    (doc,) = signed_receipts(kkt_emulator)
    assert doc["fd"] == result.fd_number and doc["payments"]["prepayment"] == 800000
    assert doc["tlvs"] == [] and doc["change"] == 0
