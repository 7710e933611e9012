"""The fiscal core's decisions against an in-memory KKT (tests/kit/fake_device.py): fast, no pty, no process.

Each test drives ``FiscalService`` through a real buffer (SQLite in a temporary folder) and checks what
the FN signed and what the journal says: never twice, never lost, never an error once the FN signed.
The same paths over the real wire format run against the emulator in tests/integration.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import journal
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.fiscal.shifts import OperationError
from kkt_adapter.kkt.errors import KktDeviceError, KktLinkError, KktTimeout
from kkt_adapter.kkt.types import Cashier, DocumentType
from tests.conftest import sale_body
from tests.kit.fake_device import FakeDevice


@pytest.fixture
def till(make_cfg):
    cfg = make_cfg(http={"kkt_wait_seconds": 1})
    db = buffer_db.open_database(cfg.buffer.path)
    device = FakeDevice()
    prints: list[tuple[str, float]] = []
    service = FiscalService(cfg, device, on_print=lambda status, seconds: prints.append((status, seconds)))
    yield service, device, prints
    db.close()


def _sell(service: FiscalService, body: dict | None = None, key: str | None = None):
    body = body or sale_body()
    return service.submit(key or str(uuid.uuid4()), body, receipt_request.validate_for(body, service.cfg))


def test_a_sale_is_signed_once_and_journaled_with_its_fd(till):
    service, device, prints = till
    outcome = _sell(service)
    assert outcome.status == "printed"
    [doc] = device.receipts()
    assert outcome.body["fiscal_doc"]["fd_number"] == doc.fd and doc.total == 940000
    assert journal.get_receipt(outcome.body["receipt_id"]).fiscal_status == "printed"
    assert [status for status, _ in prints] == ["printed"]


def test_an_answer_lost_after_signing_is_found_in_the_fn_not_printed_again(till):
    service, device, _ = till
    device.fail("fiscalize", KktTimeout("answer lost"), signed=True)
    outcome = _sell(service)
    assert outcome.status == "printed"
    assert len(device.receipts()) == 1 and device.calls.count("fiscalize") == 1
    receipt = journal.get_receipt(outcome.body["receipt_id"])
    assert receipt.fd_number == device.receipts()[0].fd
    assert "reconciled_printed" in [e.event_type for e in journal.events_for(receipt.id)]


def test_an_answer_lost_before_signing_leaves_the_receipt_to_print_once_later(till):
    service, device, _ = till
    device.fail("fiscalize", KktTimeout("no answer"), signed=False)
    outcome = _sell(service)
    assert outcome.status == "buffered" and device.receipts() == []
    receipt = journal.get_receipt(outcome.body["receipt_id"])
    assert receipt.fiscal_status == "accepted"  # the FN proved it unsigned
    assert service.print_waiting() == 1
    assert len(device.receipts()) == 1
    assert journal.get_receipt(receipt.id).fiscal_status == "printed"


def test_a_retry_of_the_same_key_returns_the_same_fd_without_printing(till):
    service, device, _ = till
    key = str(uuid.uuid4())
    first = _sell(service, key=key)
    again = _sell(service, key=key)
    # The service re-derives the answer from the journal (storing the HTTP answer is the web layer's).
    assert again.replayed and again.body == first.body
    assert len(device.receipts()) == 1 and device.calls.count("fiscalize") == 1


def test_a_device_refusal_of_the_data_rejects_the_receipt_for_good(till):
    service, device, _ = till
    device.fail("fiscalize", KktDeviceError(0xFF45, 0x71, "bad data", retryable=False))
    outcome = _sell(service)
    assert outcome.status == "rejected" and "bad data" in outcome.body["detail"]
    assert journal.get_receipt(outcome.body["receipt_id"]).fiscal_status == "rejected"
    assert service.print_waiting() == 0 and device.receipts() == []


def test_no_paper_keeps_the_receipt_journaled_until_paper_is_back(till):
    service, device, _ = till
    device.paper = False
    outcome = _sell(service)
    assert outcome.status == "buffered" and outcome.body["reason"]["code"] == "kkt_paper_out"
    assert "fiscalize" not in device.calls
    device.paper = True
    assert service.print_waiting() == 1 and len(device.receipts()) == 1


def test_a_closed_shift_is_opened_before_the_first_receipt(till):
    service, device, _ = till
    device.shift_open = False
    outcome = _sell(service)
    assert outcome.status == "printed"
    assert [d.doc_type for d in device.documents] == [DocumentType.SHIFT_OPEN, DocumentType.RECEIPT]
    assert journal.open_shift_number() == device.shift_number


def test_a_receipt_in_doubt_when_the_fn_was_replaced_is_taken_out_of_the_print_path(till):
    service, device, _ = till
    device.fail("fiscalize", KktLinkError("cable pulled"))  # cut before the command: in doubt
    outcome = _sell(service)
    receipt_id = outcome.body["receipt_id"]
    assert journal.get_receipt(receipt_id).fiscal_status == "printing"
    device.fn_number = "9999000000000043"  # the FN was swapped meanwhile
    service.reconcile()
    receipt = journal.get_receipt(receipt_id)
    assert receipt.fiscal_status == "rejected" and "was replaced" in receipt.last_error
    assert device.receipts() == []


def test_a_link_that_just_failed_is_not_knocked_on_by_the_next_cashier(till):
    service, device, _ = till
    device.fail("open", KktLinkError("no answer to ENQ"))
    first = _sell(service)
    assert first.status == "buffered" and first.body["reason"]["code"] == "kkt_unreachable"
    opens = device.calls.count("open")
    second = _sell(service)
    assert second.status == "buffered" and device.calls.count("open") == opens  # not tried again
    service.session.health.set("ok", "")  # the prober saw it answer again
    assert service.print_waiting() == 2 and len(device.receipts()) == 2


def test_z_report_whose_answer_was_lost_is_confirmed_by_the_fn(till):
    service, device, _ = till
    device.shift_open = False
    _sell(service)  # opens the shift (journaled) and prints into it
    device.fail("z_report", KktTimeout("answer lost"), signed=True)
    closed = service.z_report()
    assert (
        closed.report.fd_number == device.documents[-1].fd
        and device.documents[-1].doc_type == DocumentType.SHIFT_CLOSE
    )
    assert closed.report.shift_number == device.shift_number and closed.closed_at is not None  # FF01 time
    assert closed.totals.receipts == 1 and closed.totals.sales == 940000
    with pytest.raises(OperationError) as refused:
        service.z_report()
    assert refused.value.code == "shift_not_open"


def test_the_z_report_answers_the_fn_backlog_and_the_shift_totals_from_the_journal(till):
    service, device, _ = till
    device.shift_open = False
    cashier = Cashier("Кассир Иванова И.И.", "500100732259")
    service.open_shift(cashier)
    sale = _sell(service, sale_body(payments=[{"method": "cash", "amount": "9400.00"}]))
    mixed = sale_body(
        items=[{"name": "Линза", "price": "3000.00", "quantity": 1, "vat": 6}],
        payments=[{"method": "cash", "amount": "1000.00"}, {"method": "card", "amount": "2000.00"}],
    )
    _sell(service, mixed)
    refund = {
        "type": "refund",
        "original_receipt_id": sale.body["receipt_id"],
        "items": [{"name": "Футляр", "price": 450, "quantity": 1, "vat": 11}],
        "payments": [{"method": "cash", "amount": "450.00"}],
    }
    _sell(service, sale_body(**refund))  # the saga's checks are the web layer's; the service prints it
    device.paper = False
    _sell(service)  # journaled, not printed: not in the totals
    device.paper = True
    assert service.x_report(cashier).totals == journal.ShiftTotals(3, 1240000, 45000, 995000, 200000)
    closed = service.z_report(cashier)
    assert [d.cashier for d in device.documents if d.doc_type != DocumentType.RECEIPT] == [
        {"name": "Кассир Иванова И.И.", "inn": "500100732259"}
    ] * 2
    assert closed.totals == journal.ShiftTotals(
        receipts=3, sales=1240000, refunds=45000, cash=995000, electronic=200000
    )
    assert closed.totals.cash + closed.totals.electronic == closed.totals.sales - closed.totals.refunds
    # FF39 right after the Z: every document the OFD has not confirmed, the Z report itself included.
    assert closed.unsent_count == len(device.documents) and closed.first_unsent_at is not None
    assert closed.closed_at == datetime(2026, 12, 4, 21)  # the read-back of the report (FF0A)
    events = [e for e in journal.BufferEvent.select() if e.event_type == "x_report"]
    assert json.loads(events[0].metadata)["cashier_inn"] == "500100732259"


def test_a_z_report_whose_fn_backlog_cannot_be_read_still_answers_the_close(till):
    service, device, _ = till
    device.shift_open = False
    service.open_shift()
    device.fail("ofd_status", KktTimeout("no answer"))
    closed = service.z_report()
    assert closed.report.fd_number == device.documents[-1].fd
    assert (closed.unsent_count, closed.first_unsent_at) == (None, None)
    assert closed.totals == journal.ShiftTotals(0, 0, 0, 0, 0)
    assert service.health.snapshot().shift_open is False


def test_a_shift_opened_before_the_journal_has_no_totals(till):
    service, device, _ = till
    device.shift_open, device.shift_number = True, 7  # opened before this buffer existed
    _sell(service)
    closed = service.z_report()
    assert closed.report.shift_number == 7 and closed.totals is None
    service.open_shift()
    assert service.x_report().totals == journal.ShiftTotals(0, 0, 0, 0, 0)


def test_the_receipts_cashier_opens_the_shift_and_is_printed_again_from_the_columns(till):
    service, device, _ = till
    device.shift_open, device.paper = False, False
    body = sale_body(cashier={"name": "Петров П.П.", "inn": None})
    outcome = _sell(service, body)
    assert outcome.status == "buffered" and device.documents == []
    receipt = journal.get_receipt(outcome.body["receipt_id"])
    assert (receipt.cashier_name, receipt.cashier_inn) == ("Петров П.П.", None)
    device.paper = True
    assert service.print_waiting() == 1  # the background printer: from the typed columns
    shift_open, printed = device.documents
    assert shift_open.doc_type == DocumentType.SHIFT_OPEN
    assert shift_open.cashier == printed.cashier == {"name": "Петров П.П.", "inn": None}
    assert service.health.snapshot().shift_open is True


def test_relay_captures_fn_documents_and_hands_acks_back(till):
    service, _, _ = till
    _sell(service)
    assert service.relay()["captured"] == 1
    assert service.relay()["captured"] == 0  # known documents are not read twice


def test_the_state_machine_refuses_an_illegal_transition_and_writes_nothing(till):
    service, device, _ = till
    device.paper = False
    receipt_id = _sell(service).body["receipt_id"]  # journaled, accepted
    before = [e.event_type for e in journal.events_for(receipt_id)]
    with pytest.raises(journal.IllegalTransition, match="accepted --receipt_printed-->"):
        journal.mark_printed(
            receipt_id,
            fn_number=device.fn_number,
            fd_number=1,
            fiscal_sign=1,
            fiscal_datetime="2026-12-04T12:00:00",
            shift_number=1,
            via="print",
        )
    assert journal.get_receipt(receipt_id).fiscal_status == "accepted"
    assert [e.event_type for e in journal.events_for(receipt_id)] == before
