"""The POS's till (issue 12) end to end over a real pty to the emulator: the cashier's tags 1021 / 1203 in
every FN document the POS asks for (receipts, printed at once or later from the journal, the shift
reports), the X / Z answers with the shift's totals and the FN's OFD backlog, the buffer status the POS
polls, and the CORS answers a browser page of central Odoo gets.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from kkt_adapter.buffer import journal
from kkt_adapter.buffer.models import BufferEvent, Receipt
from kkt_adapter.kkt.errors import KktDeviceError
from kkt_adapter.kkt.types import Cashier
from kkt_adapter.web import create_app
from tests.conftest import sale_body
from tests.integration.conftest import fast_kkt

ODOO = "https://erp.example.ru"
IVANOVA = {"name": "Кассир Иванова А.", "inn": "500100732259"}
PETROV = {"name": "Петров П.", "inn": None}


@pytest.fixture
def app(make_cfg, kkt_emulator):
    cfg = make_cfg(kkt=fast_kkt(kkt_emulator.port), http={"cors_origins": [ODOO]})
    application = create_app(cfg, start_background=False)
    yield application
    application.extensions["kkt"].device.close()


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, body, key, **headers):
    return client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key, **headers})


def tags(document: dict) -> dict[int, str]:
    return {t["tag"]: t["value"] for t in document["tlvs"] if t["tag"] in (1021, 1203)}


def test_a_sale_carries_the_cashier_into_its_fn_document(client, kkt_emulator, new_key):
    resp = post(client, sale_body(cashier=IVANOVA), new_key())
    assert resp.get_json()["status"] == "printed"
    opened, sale = kkt_emulator.control.journal()
    assert (opened["type"], sale["type"]) == (2, 3)
    assert tags(sale) == {1021: "Кассир Иванова А.", 1203: "500100732259"}
    assert tags(opened) == tags(sale)  # the sale opened the shift, in its cashier's name


def test_a_receipt_printed_later_by_the_background_printer_keeps_its_cashier(
    app, client, kkt_emulator, new_key
):
    kkt_emulator.control.paper(False)
    correction = {"type": 0, "basis_date": "2026-11-20"}
    data = post(
        client, sale_body(type="correction", correction=correction, cashier=PETROV), new_key()
    ).get_json()
    assert data["status"] == "buffered" and kkt_emulator.control.journal() == []
    row = Receipt.get_by_id(data["receipt_id"])
    assert (row.cashier_name, row.cashier_inn) == ("Петров П.", None)  # typed columns, printed from them
    kkt_emulator.control.paper(True)
    assert app.extensions["kkt"].service.print_waiting() == 1
    opened, printed = kkt_emulator.control.journal()
    assert printed["type"] == 31 and tags(printed) == {1021: "Петров П."}  # no INN: no tag 1203
    assert tags(opened) == {1021: "Петров П."}


def test_shift_open_x_and_z_carry_the_cashier_and_answer_the_shifts_figures(client, kkt_emulator, new_key):
    status = client.get("/v1/kkt/buffer/status").get_json()
    assert status["shift_open"] is None and status["kkt_status"] == "unknown"  # not asked yet
    opened = client.post("/v1/kkt/shift/open", json={"cashier": IVANOVA})
    assert opened.status_code == 200
    status = client.get("/v1/kkt/buffer/status").get_json()
    assert (status["kkt_status"], status["shift_open"]) == ("ok", True)
    assert datetime.fromisoformat(status["shift_opened_at"]).tzinfo is not None
    assert 0 <= status["shift_age_seconds"] < 60
    cash_sale = sale_body(payments=[{"method": "cash", "amount": "9400.00"}], cashier=IVANOVA)
    assert post(client, cash_sale, new_key()).get_json()["status"] == "printed"
    card_sale = sale_body(cashier=IVANOVA)
    post(client, card_sale, new_key())
    returned = sale_body(
        type="correction",
        correction={"type": 0, "basis_date": "2026-11-20", "settlement": "refund"},
        items=[{"name": "Футляр", "price": 450, "quantity": 1, "vat": 11}],
        payments=[{"method": "cash", "amount": "450.00"}],
    )
    post(client, returned, new_key())
    x = client.post("/v1/kkt/report/x", json={"cashier": PETROV})
    assert x.status_code == 200
    expected_totals = {
        "receipts": 3,
        "sales": "18800.00",
        "refunds": "450.00",
        "cash": "8950.00",
        "electronic": "9400.00",
        "prepayment": "0.00",
    }
    assert x.get_json() == {"shift_number": 1, "report": "X", "totals": expected_totals}
    event = BufferEvent.select().where(BufferEvent.event_type == "x_report").get()
    assert json.loads(event.metadata)["cashier_name"] == "Петров П."  # no FN document: the journal keeps it
    kkt_emulator.control.ofd_confirm([1, 2])  # the OFD confirmed the shift open and the first sale
    z = client.post("/v1/kkt/shift/close", json={"cashier": IVANOVA})
    assert z.status_code == 200
    body = z.get_json()
    state = kkt_emulator.control.state()
    journal_docs = kkt_emulator.control.journal()
    closed = journal_docs[-1]
    assert closed["type"] == 5 and tags(closed) == {1021: "Кассир Иванова А.", 1203: "500100732259"}
    assert {k: body[k] for k in ("shift_number", "fd_number", "report")} == {
        "shift_number": 1,
        "fd_number": closed["fd"],
        "report": "Z",
    }
    assert body["closed_at"] == datetime.fromisoformat(closed["datetime"]).replace(second=0).isoformat()
    # FF39 right after the Z: the two receipts after the confirmed ones and the Z report itself
    assert body["unsent_count"] == len(state["unconfirmed"]) == 3
    first_unsent = next(d for d in journal_docs if d["fd"] == state["unconfirmed"][0]["fd"])
    assert (
        body["first_unsent_at"]
        == datetime.fromisoformat(first_unsent["datetime"]).replace(second=0).isoformat()
    )
    assert body["totals"] == expected_totals
    status = client.get("/v1/kkt/buffer/status").get_json()
    assert (status["shift_open"], status["shift_opened_at"], status["shift_age_seconds"]) == (
        False,
        None,
        None,
    )


def test_a_z_whose_answer_is_lost_is_still_answered_with_the_shifts_figures(client, kkt_emulator, new_key):
    post(client, sale_body(cashier=IVANOVA), new_key())
    kkt_emulator.control.fault("lost_answer", command="41")
    z = client.post("/v1/kkt/shift/close", json={"cashier": IVANOVA})
    assert z.status_code == 200, z.get_json()
    body = z.get_json()
    closed = kkt_emulator.control.journal()[-1]
    assert closed["type"] == 5 and body["fd_number"] == closed["fd"] and body["shift_number"] == 1
    assert tags(closed) == {1021: "Кассир Иванова А.", 1203: "500100732259"}
    assert body["closed_at"] is not None and body["unsent_count"] == 3
    assert body["totals"] == {
        "receipts": 1,
        "sales": "9400.00",
        "refunds": "0.00",
        "cash": "0.00",
        "electronic": "9400.00",
        "prepayment": "0.00",
    }
    assert [s.status for s in journal.Shift.select()] == ["closed"]


def test_shift_bodies_are_optional_and_strict(client, kkt_emulator):
    assert client.post("/v1/kkt/shift/open").status_code == 200  # kktctl: no body at all
    bad = client.post("/v1/kkt/report/x", json={"cashier": {"name": "Иванова", "inn": "12345"}, "extra": 1})
    assert bad.status_code == 422
    problem = bad.get_json()
    assert problem["code"] == "invalid_shift_request"
    assert [e["field"] for e in problem["errors"]] == ["extra", "cashier.inn"]
    wrong_type = client.post("/v1/kkt/shift/close", data='{"cashier": null}', content_type="text/plain")
    assert wrong_type.status_code == 415
    assert client.post("/v1/kkt/shift/close", data="{", content_type="application/json").status_code == 400
    assert [d["type"] for d in kkt_emulator.control.journal()] == [2]  # nothing else reached the KKT
    assert client.post("/v1/kkt/shift/close", json={"cashier": None}).status_code == 200


def test_the_odoo_page_reads_every_answer_and_another_page_cannot_sell(client, kkt_emulator, new_key):
    key = new_key()
    origin = {"Origin": ODOO}
    first = post(client, sale_body(), key, **origin)
    again = post(client, sale_body(), key, **origin)
    assert first.get_json()["status"] == "printed" and again.headers["Idempotent-Replayed"] == "true"
    for resp in (first, again):
        assert resp.headers["Access-Control-Allow-Origin"] == ODOO
        assert resp.headers["Access-Control-Expose-Headers"] == "Idempotent-Replayed"
    already = client.post("/v1/kkt/shift/open", headers=origin)  # 409 from the KKT's state: readable
    assert already.status_code == 409 and already.headers["Access-Control-Allow-Origin"] == ODOO
    evil = post(client, sale_body(), new_key(), Origin="https://evil.example")
    assert evil.status_code == 403 and evil.get_json()["code"] == "cors_origin_denied"
    assert [d["type"] for d in kkt_emulator.control.journal()] == [2, 3]


def test_the_driver_tags_shift_reports_and_copes_with_firmware_without_ff41(driver, kkt_emulator):
    opened = driver.open_shift(Cashier("Кассир Иванова А.", "500100732259"))
    assert tags(kkt_emulator.control.journal()[-1]) == {1021: "Кассир Иванова А.", 1203: "500100732259"}
    kkt_emulator.control.fault("refuse", command="FF42", code=0x33)  # any other refusal: nothing signed
    with pytest.raises(KktDeviceError):
        driver.z_report(Cashier("Петров П."))
    assert driver.short_status().shift_open
    kkt_emulator.control.fault("refuse", command="FF42", code=0x37)  # "command not supported": no tags
    closed = driver.z_report(Cashier("Петров П."))
    assert closed.fd_number == opened.fd_number + 1 and not driver.short_status().shift_open
    assert kkt_emulator.control.journal()[-1]["tlvs"] == []
