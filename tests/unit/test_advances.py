"""The journal check of an advance offset (buffer/advances.py) through ``FiscalService`` against the in-memory
KKT: what this till holds for a glasses job, refusals above it, replays, concurrency, the typed columns."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from kkt_adapter.buffer import advances, journal
from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.fiscal import document
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.errors import KktDeviceError
from tests.kit.fake_device import FakeDevice
from tests.unit.test_advance_request import JOB, advance, final


@pytest.fixture
def till(make_cfg):
    cfg = make_cfg(http={"kkt_wait_seconds": 1})
    db = buffer_db.open_database(cfg.buffer.path)
    device = FakeDevice()
    yield FiscalService(cfg, device), device
    db.close()


def submit(service: FiscalService, body: dict, key: str | None = None):
    return service.submit(key or str(uuid.uuid4()), body, receipt_request.validate_for(body, service.cfg))


def advance_of(amount: str, **overrides) -> dict:
    body = advance(**overrides)
    body["items"][0]["price"] = amount
    body["payments"] = [{"method": "cash", "amount": amount}]
    return body


def test_an_offset_above_the_advance_is_refused_naming_both_sums(till):
    service, device = till
    assert submit(service, advance()).status == "printed"  # 3 000.00 with 1214 = 2
    with pytest.raises(advances.PrepaymentExceedsAdvance) as refused:
        submit(service, final(offset="3000.01", cash="4999.99"))
    assert refused.value.code == "prepayment_exceeds_advance"
    assert refused.value.detail == (
        f"prepayment offset 3000.01 exceeds the advance this till holds for job {JOB!r}: 3000.00"
    )
    assert refused.value.extra == {"job_ref": JOB, "prepayment": "3000.01", "held": "3000.00"}
    assert len(device.receipts()) == 1 and len(journal.list_receipts()) == 1  # nothing journaled


def test_the_whole_advance_is_offset_once(till):
    service, _ = till
    submit(service, advance())
    outcome = submit(service, final(offset="3000.00"))
    assert outcome.status == "printed"
    receipt = journal.get_receipt(outcome.body["receipt_id"])
    assert (receipt.job_ref, receipt.prepayment, receipt.cash) == (JOB, 300000, 500000)
    assert advances.job_advance(JOB) == advances.JobAdvance(taken=300000, returned=0, offset=300000)
    with pytest.raises(advances.PrepaymentExceedsAdvance, match=r"offset 1\.00 exceeds .*: 0\.00"):
        submit(service, final(offset="1.00", cash="7999.00"))


def test_two_partial_offsets_use_up_the_advance(till):
    service, _ = till
    submit(service, advance())
    assert submit(service, final(offset="1000.00", cash="7000.00")).status == "printed"
    with pytest.raises(advances.PrepaymentExceedsAdvance, match=r"2000\.01 .*: 2000\.00"):
        submit(service, final(offset="2000.01", cash="5999.99"))
    assert submit(service, final(offset="2000.00", cash="6000.00")).status == "printed"


def test_an_offset_for_a_job_whose_advance_was_taken_elsewhere_is_accepted(till):
    service, device = till
    submit(service, advance(job_ref="ДРУГОЙ-1"))  # another job's advance on this till does not count
    outcome = submit(service, final(offset="7000.00", cash="1000.00"))
    assert outcome.status == "printed" and len(device.receipts()) == 2
    assert advances.job_advance(JOB).taken == 0


def test_every_advance_method_counts_and_only_the_advance_items(till):
    service, _ = till
    body = advance()
    body["items"] = [
        {"name": "Линзы (100 %)", "price": "1000.00", "vat": 6, "payment_method": 1},
        {"name": "Оправа (частично)", "price": "500.00", "vat": 6, "payment_method": 2},
        {"name": "Работа (аванс)", "price": "250.00", "vat": 6, "payment_method": 3, "payment_subject": 10},
        {"name": "Футляр", "price": "400.00", "vat": 11, "payment_method": 4},  # sold outright
    ]
    body["payments"] = [{"method": "cash", "amount": "2150.00"}]
    submit(service, body)
    assert advances.job_advance(JOB).held == 175000


def test_a_refunded_advance_is_no_longer_held(till):
    service, _ = till
    sale = submit(service, advance())
    refund = advance_of("1000.00", type="refund", original_receipt_id=sale.body["receipt_id"])
    assert submit(service, refund).status == "printed"  # the saga's checks are the web layer's
    assert advances.job_advance(JOB) == advances.JobAdvance(taken=300000, returned=100000, offset=0)
    with pytest.raises(advances.PrepaymentExceedsAdvance, match=r"2000\.01 .*: 2000\.00"):
        submit(service, final(offset="2000.01", cash="5999.99"))


def test_an_advance_rejected_by_the_kkt_is_not_held_but_one_waiting_for_it_is(till):
    service, device = till
    device.fail("fiscalize", KktDeviceError(0xFF45, 0x71, "bad data", retryable=False))
    assert submit(service, advance_of("2000.00")).status == "rejected"
    device.paper = False
    assert submit(service, advance_of("1000.00")).status == "buffered"  # accepted: the FN will sign it
    assert advances.job_advance(JOB).held == 100000
    with pytest.raises(advances.PrepaymentExceedsAdvance, match=r"3000\.00 .*: 1000\.00"):
        submit(service, final(offset="3000.00"))
    assert submit(service, final(offset="1000.00", cash="7000.00")).status == "buffered"
    device.paper = True
    assert service.print_waiting() == 2


def test_a_replay_of_an_accepted_offset_returns_the_original_answer(till):
    service, device = till
    submit(service, advance())
    key = str(uuid.uuid4())
    first = submit(service, final(offset="3000.00"), key)
    assert first.status == "printed"
    # The advance is used up now; the same request under the same key is its own replay, not a new offset.
    again = submit(service, final(offset="3000.00"), key)
    assert again.replayed and again.body == first.body
    assert len(device.receipts()) == 2


def test_a_reprint_rebuilds_the_offset_and_the_job_from_the_columns(till):
    service, device = till
    device.paper = False
    submit(service, advance())
    body = final(offset="3000.00", buyer_contact="+79991234567")
    outcome = submit(service, body)
    rebuilt = document.fiscal_receipt(journal.get_receipt(outcome.body["receipt_id"]), service.cfg.receipt)
    validated = receipt_request.validate_for(body, service.cfg).fiscal
    assert (rebuilt.prepayment, rebuilt.job_ref, rebuilt.cash) == (300000, JOB, 500000)
    assert rebuilt.items == validated.items
    device.paper = True
    assert service.print_waiting() == 2


def test_shift_totals_count_the_offset_apart(till):
    service, device = till
    device.shift_open = False
    service.open_shift()  # a shift the journal knows
    submit(service, advance())
    submit(service, final(offset="3000.00"))
    totals = service.x_report().totals
    assert (totals.sales, totals.cash, totals.electronic, totals.prepayment) == (
        1100000,
        500000,
        300000,
        300000,
    )
    assert totals.cash + totals.electronic + totals.prepayment == totals.sales - totals.refunds


def test_two_concurrent_offsets_of_one_advance_cannot_both_pass(till, monkeypatch):
    """Each offset's check reads the ledger and then waits: were the check outside the write transaction,
    both would read 3 000.00 held and both would be journaled."""
    service, _ = till
    submit(service, advance())
    ledger = advances.job_advance

    def slow_ledger(job_ref: str) -> advances.JobAdvance:
        found = ledger(job_ref)
        time.sleep(0.3)  # the other thread gets every chance to read the same ledger
        return found

    monkeypatch.setattr(advances, "job_advance", slow_ledger)
    body = final(offset="3000.00")
    typed, lines = document.typed_columns(receipt_request.validate_for(body, service.cfg).fiscal)
    start = threading.Barrier(2)
    results: list[str] = []

    def offset() -> None:
        start.wait()
        try:
            journal.accept_receipt(
                str(uuid.uuid4()), body, pos_id="t", kind="sale", total=800000, capacity=100,
                typed=typed, lines=lines,
            )  # fmt: skip
            results.append("accepted")
        except advances.PrepaymentExceedsAdvance:
            results.append("refused")
        finally:
            journal.Receipt._meta.database.close()  # this thread's connection

    threads = [threading.Thread(target=offset) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == ["accepted", "refused"]
    assert advances.job_advance(JOB).held == 0
