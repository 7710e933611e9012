"""The fiscal core's decisions against an in-memory KKT (tests/kit/fake_device.py): fast, no pty, no process.

Each test drives ``FiscalService`` through a real buffer (SQLite in a temporary folder) and checks what
the FN signed and what the journal says: never twice, never lost, never an error once the FN signed.
The same paths over the real wire format run against the emulator in tests/integration.
"""

from __future__ import annotations

import uuid

import pytest

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import journal
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.fiscal.shifts import OperationError
from kkt_adapter.kkt.errors import KktDeviceError, KktLinkError, KktTimeout
from kkt_adapter.kkt.types import DocumentType
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
    device.fail("z_report", KktTimeout("answer lost"), signed=True)
    report = service.z_report()
    assert (
        report.fd_number == device.documents[-1].fd
        and device.documents[-1].doc_type == DocumentType.SHIFT_CLOSE
    )
    with pytest.raises(OperationError) as refused:
        service.z_report()
    assert refused.value.code == "shift_not_open"


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
