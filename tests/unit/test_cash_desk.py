"""Cash in / cash out decisions against an in-memory KKT (tests/kit/fake_device.py): fast, no pty.

``CashDesk`` journals each operation before the KKT hears of it and decides every doubt from the KKT's
counters: a cash movement is recorded by the KKT at most once, whatever answers are lost. The same paths
over the real wire format run against the emulator in tests/integration/test_cash.py.
"""

from __future__ import annotations

import uuid

import pytest

from kkt_adapter.buffer import cash as cash_journal
from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.fiscal import request as receipt_request
from kkt_adapter.fiscal.cash import CashNotDone
from kkt_adapter.fiscal.cash_request import InvalidCashOperation, validate_cash
from kkt_adapter.fiscal.service import FiscalService
from kkt_adapter.kkt.errors import KktDeviceError, KktLinkError, KktTimeout
from kkt_adapter.kkt.types import CashKind
from tests.conftest import sale_body
from tests.kit.fake_device import FakeDevice

IN, OUT = CashKind.IN, CashKind.OUT


@pytest.fixture
def till(make_cfg):
    cfg = make_cfg(http={"kkt_wait_seconds": 1}, kkt={"retry_interval_seconds": 0})
    db = buffer_db.open_database(cfg.buffer.path)
    device = FakeDevice()
    yield FiscalService(cfg, device), device
    db.close()


def _cash(service: FiscalService, kind: CashKind, amount: str, key: str | None = None, **extra):
    body = {"amount": amount, **extra}
    validated = validate_cash(body, max_total=service.cfg.receipt.max_total)
    return service.cash.submit(kind, key or str(uuid.uuid4()), body, validated)


def test_cash_in_then_out_moves_the_drawer_once_each(till):
    service, device = till
    cash_in = _cash(service, IN, "1500.00", cashier={"name": "Иванова А.", "inn": "500100732259"})
    op = cash_in.operation
    assert (op.status, op.amount, op.cash_in_drawer, op.document_number) == ("done", 150_000, 150_000, 1)
    assert (op.cashier_name, op.cashier_inn) == ("Иванова А.", "500100732259")
    cash_out = _cash(service, OUT, 1000)
    assert (cash_out.operation.status, cash_out.operation.cash_in_drawer) == ("done", 50_000)
    assert device.cash_documents == [("in", 150_000), ("out", 100_000)]
    assert cash_in.label == cash_out.label == "done" and not cash_in.replayed


def test_a_cash_out_beyond_the_drawer_is_refused_for_good(till):
    service, device = till
    key = str(uuid.uuid4())
    outcome = _cash(service, OUT, "10.00", key=key)
    assert (outcome.operation.status, outcome.operation.cash_in_drawer, outcome.label) == (
        "refused",
        0,
        "insufficient_cash",
    )
    assert device.cash_documents == []
    again = _cash(service, OUT, "10.00", key=key)
    assert (
        again.replayed and again.operation.id == outcome.operation.id and device.calls.count("cash_out") == 1
    )


def test_an_answer_lost_after_recording_is_found_in_the_counters_at_once(till):
    service, device = till
    device.fail("cash_in", KktTimeout("answer lost"), signed=True)
    outcome = _cash(service, IN, "500")
    assert outcome.operation.status == "done" and outcome.operation.document_number == 1
    assert "decided from the KKT's counters" in outcome.operation.last_error
    assert device.cash_documents == [("in", 50_000)]


def test_a_doubt_the_kkt_cannot_answer_waits_for_the_retry_and_is_never_doubled(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("cash_in", KktTimeout("answer lost"), signed=True)
    device.fail("open", KktLinkError("unplugged"), after=1)  # gone right after the lost answer
    with pytest.raises(CashNotDone) as first:
        _cash(service, IN, "500", key=key)
    assert (first.value.code, first.value.outcome) == ("kkt_timeout", "in_doubt")
    assert cash_journal.get_by_key(key).status == "sending"
    retry = _cash(service, IN, "500", key=key)
    assert retry.replayed and retry.operation.status == "done"
    assert device.cash_documents == [("in", 50_000)] and device.calls.count("cash_in") == 1


def test_a_command_the_kkt_never_got_is_sent_again_on_the_retry(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("cash_in", KktTimeout("no answer"), signed=False)
    with pytest.raises(CashNotDone) as first:
        _cash(service, IN, "500", key=key)
    assert first.value.code == "kkt_unavailable" and "did not record" in first.value.detail
    assert cash_journal.get_by_key(key).status == "failed"
    assert _cash(service, IN, "500", key=key).operation.status == "done"
    assert device.cash_documents == [("in", 50_000)]


def test_an_unplugged_kkt_leaves_nothing_done_and_the_retry_does_it_once(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("open", KktLinkError("no answer to ENQ"))
    with pytest.raises(CashNotDone) as first:
        _cash(service, IN, "500", key=key)
    assert (first.value.code, first.value.extra["operation_id"]) == (
        "kkt_unavailable",
        cash_journal.get_by_key(key).id,
    )
    assert _cash(service, IN, "500", key=key).operation.status == "done"
    assert device.cash_documents == [("in", 50_000)]


def test_counters_that_moved_too_far_stay_in_doubt_without_blocking_the_till(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("cash_in", KktTimeout("answer lost"), signed=True)
    device.fail("open", KktLinkError("unplugged"), after=1)
    with pytest.raises(CashNotDone):
        _cash(service, IN, "500", key=key)
    device.cash_documents.append(("in", 100))  # a cash in made at the KKT's own keyboard meanwhile
    other = _cash(service, IN, "200")
    assert other.operation.status == "done"
    with pytest.raises(CashNotDone) as retry:
        _cash(service, IN, "500", key=key)
    assert retry.value.code == "kkt_timeout" and "cannot be decided" in retry.value.detail
    assert device.calls.count("cash_in") == 2  # the doubtful one was never sent again


def test_a_device_refusal_is_not_final(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("cash_in", KktDeviceError(0x50, 0x6B, "no receipt paper"))
    with pytest.raises(CashNotDone) as first:
        _cash(service, IN, "500", key=key)
    assert (first.value.code, first.value.extra["device_code"]) == ("kkt_refused", 0x6B)
    assert _cash(service, IN, "500", key=key).operation.status == "done"


def test_the_shift_opens_by_itself_or_the_operation_is_refused(make_cfg, tmp_path):
    for auto_open in (True, False):
        cfg = make_cfg(kkt={"auto_open_shift": auto_open}, buffer={"path": str(tmp_path / f"{auto_open}.db")})
        db = buffer_db.open_database(cfg.buffer.path)
        device = FakeDevice(shift_open=False)
        service = FiscalService(cfg, device)
        try:
            if auto_open:
                assert _cash(service, IN, "1").operation.status == "done" and device.shift_open
            else:
                with pytest.raises(CashNotDone) as refused:
                    _cash(service, IN, "1")
                assert refused.value.code == "shift_not_open" and device.cash_documents == []
        finally:
            db.close()


def test_keys_conflict_across_bodies_kinds_and_receipts(till):
    service, _ = till
    key = str(uuid.uuid4())
    _cash(service, IN, "100", key=key)
    for kind, amount in ((IN, "101"), (OUT, "100")):
        with pytest.raises(cash_journal.CashKeyConflict):
            _cash(service, kind, amount, key=key)
    receipt_key = str(uuid.uuid4())
    body = sale_body()
    service.submit(receipt_key, body, receipt_request.validate_for(body, service.cfg))
    with pytest.raises(cash_journal.CashKeyConflict):
        _cash(service, IN, "100", key=receipt_key)


def test_a_z_report_settles_the_doubts_of_its_shift_first(till):
    service, device = till
    key = str(uuid.uuid4())
    device.fail("cash_out", KktTimeout("answer lost"), signed=True)
    device.fail("open", KktLinkError("unplugged"), after=1)
    _cash(service, IN, "300")
    with pytest.raises(CashNotDone):
        _cash(service, OUT, "100", key=key)
    service.z_report()
    assert cash_journal.get_by_key(key).status == "done" and not device.shift_open
    assert device.calls.index("cash_counters", device.calls.index("cash_out") + 1) < device.calls.index(
        "z_report"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "10000001"}, "amount"),  # over [receipt] max_total
        ({"amount": 1, "note": "x"}, "note"),
        ({"amount": 1, "cashier": "Иванова"}, "cashier"),
        ({"amount": 1, "cashier": {"inn": "500100732259"}}, "cashier.name"),
        ({"amount": 1, "cashier": {"name": "Иванова", "inn": "12345"}}, "cashier.inn"),
        ({"amount": 1, "cashier": {"name": "Иванова", "role": "x"}}, "cashier.role"),
        ([], "$"),
    ],
)
def test_invalid_bodies_are_refused_field_by_field(body, field):
    with pytest.raises(InvalidCashOperation) as err:
        validate_cash(body, max_total=1_000_000_000)
    assert field in [e.field for e in err.value.errors] and err.value.code == "invalid_cash_operation"


def test_a_valid_body_in_roubles_becomes_kopecks():
    assert validate_cash({"amount": "500.5", "cashier": None}, max_total=10**9).amount == 50_050
    assert validate_cash({"amount": 10_000_000}, max_total=10**9).amount == 10**9
