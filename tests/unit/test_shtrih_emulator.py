"""Emulator internals without a pty: FN rules, fiscal signs, persistence and journal durability."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from kkt_emulator.device import Device
from kkt_emulator.faults import Fault, Faults
from kkt_emulator.fn import FiscalStorage, FnError, build_document_message
from kkt_emulator.store import StateStore

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as E


def make_fn(path: Path, **kwargs: object) -> FiscalStorage:
    return FiscalStorage(StateStore(path), **kwargs)  # type: ignore[arg-type]


def item(amount: int = 10_000, operation: int = 1) -> dict[str, object]:
    return {
        "operation": operation,
        "quantity": Decimal(1),
        "price": amount,
        "amount": amount,
        "tax_amount": 0xFF_FFFF_FFFF,
        "tax_rate": 1,
        "department": 1,
        "payment_method": 4,
        "payment_subject": 1,
        "name": "Футляр",
    }


def close_values(cash: int) -> dict[str, object]:
    return {
        "payments": [cash] + [0] * 15,
        "rounding": 0,
        "tax_sums": [0] * 6,
        "taxation_system": 1,
        "text": "",
    }


def sell(fn: FiscalStorage, amount: int = 10_000) -> dict[str, object]:
    fn.open_receipt(0)
    fn.add_item(item(amount))
    record, _ = fn.close_receipt(close_values(amount), time.monotonic())
    return record


def test_receipt_flow_and_vat(tmp_path: Path) -> None:
    fn = make_fn(tmp_path, fn_number="9999000011112222")
    with pytest.raises(FnError) as err:
        fn.open_receipt(0)
    assert err.value.code == E.SHIFT_NOT_OPEN
    fn.open_shift(time.monotonic())
    record = sell(fn, 12_000)
    assert (
        record["fd"] == 2
        and record["items"][0]["vat_sum"] == 2_000
        and record["fn_number"] == "9999000011112222"
    )
    assert fn.state.last_fd == 2 and [u["fd"] for u in fn.state.unconfirmed] == [1, 2]


def test_fiscal_sign_is_deterministic_per_fn(tmp_path: Path) -> None:
    fn = make_fn(tmp_path / "a")
    fn.open_shift(time.monotonic())
    record = sell(fn)
    other = make_fn(tmp_path / "b")
    other.open_shift(time.monotonic())
    assert record["fp"] != sell(other)["fp"]  # different FN secret
    assert 0 <= record["fp"] < 2**32


def test_state_and_journal_survive_reload(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    sell(fn)
    fn.open_receipt(2)
    fn.store.close()
    again = make_fn(tmp_path)
    assert again.state.last_fd == 2 and again.state.shift_open and again.state.receipt is not None
    assert again.state.fn_number == fn.state.fn_number and again.document(2)["fp"] == fn.document(2)["fp"]


def test_journal_ahead_of_state_wins_and_torn_line_is_cut(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    sell(fn)
    fn.store.close()
    state = json.loads((tmp_path / "state.json").read_text())
    state["last_fd"] = 1  # crash after the journal line, before state.json was replaced
    (tmp_path / "state.json").write_text(json.dumps(state))
    with open(tmp_path / "journal.jsonl", "ab") as f:
        f.write(b'{"fd": 3, "type"')  # torn write, never counted
    again = make_fn(tmp_path)
    assert again.state.last_fd == 2
    assert [r["fd"] for r in again.store.read_journal()] == [1, 2]
    assert (tmp_path / "journal.jsonl").read_bytes().endswith(b"}\n")


def test_shift_limit_and_ofd_block(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    fn.advance(24 * 3600 + 60)
    assert fn.shift_expired
    with pytest.raises(FnError) as err:
        fn.open_receipt(0)
    assert err.value.code == E.SHIFT_OVER_24H
    fn.close_shift(time.monotonic())
    fn.advance(30 * 86400)
    assert fn.ofd_blocked
    with pytest.raises(FnError) as err:
        fn.open_shift(time.monotonic())
    assert err.value.code == E.FN_OFD_WAIT_EXHAUSTED
    assert fn.confirm() == 2 and not fn.ofd_blocked
    fn.open_shift(time.monotonic())


def test_fn_expiry_rule(tmp_path: Path) -> None:
    fn = make_fn(tmp_path, expires_on=date(2020, 1, 1))
    assert fn.expired and fn.warnings & 3 == 3
    with pytest.raises(FnError) as err:
        fn.open_shift(time.monotonic())
    assert err.value.code == E.FN_EXPIRED


def test_device_answers_and_errors(tmp_path: Path) -> None:
    device = Device(make_fn(tmp_path))
    started = time.monotonic()
    status = cmd.parse_answer(cmd.SHORT_STATUS, device.execute(cmd.build_request(cmd.SHORT_STATUS), started))
    assert status[0] == 0 and status[1]["mode"] == 4
    assert device.execute(cmd.build_request(cmd.SHORT_STATUS, password=99), started) == bytes(
        [0x10, E.WRONG_PASSWORD]
    )
    assert device.execute(b"\xff\x77" + bytes(4), started) == bytes([0xFF, 0x77, E.COMMAND_NOT_SUPPORTED])
    assert device.execute(b"\x8d\x1e\x00\x00\x00", started) == bytes([0x8D, E.BAD_PARAMETERS])  # no type byte
    wrong_op = cmd.build_request(cmd.OPERATION_V2, **{**item(), "operation": 2})
    device.fn.open_shift(started)
    device.fn.open_receipt(0)
    assert device.execute(wrong_op, started)[-1] == 0x49


def test_fault_registry_counts_and_targets() -> None:
    faults = Faults()
    faults.arm(Fault("slow", count=2, command=0xFF45, seconds=1.0))
    faults.arm(Fault("no_answer", count=0))
    assert faults.take("slow", 0x10) is None
    assert faults.take("slow", 0xFF45) and faults.take("slow", 0xFF45)
    assert faults.take("slow", 0xFF45) is None
    assert all(faults.take("no_answer", 0x10) for _ in range(5))  # count 0: until cleared
    faults.clear()
    assert faults.snapshot() == [] and faults.fired == {"slow": 2, "no_answer": 5}
    with pytest.raises(ValueError):
        faults.arm(Fault("bogus"))


def refund(fn: FiscalStorage, amount: int) -> None:
    fn.open_receipt(2)
    fn.add_item(item(amount, operation=2))
    fn.close_receipt(close_values(amount), time.monotonic())


def test_cash_in_and_out_move_the_drawer_and_are_journaled(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    with pytest.raises(FnError) as err:
        fn.cash_operation("in", 10_000)
    assert err.value.code == E.SHIFT_NOT_OPEN  # like a receipt: a shift must be open
    fn.open_shift(time.monotonic())  # document 1
    sell(fn, 30_000)  # document 2: cash sale, +300.00
    refund(fn, 5_000)  # document 3: cash refund, -50.00
    cash_in = fn.cash_operation("in", 100_000)
    assert (cash_in["document_number"], cash_in["number"], cash_in["drawer_after"]) == (4, 1, 125_000)
    with pytest.raises(FnError) as err:
        fn.cash_operation("out", 125_001)
    assert err.value.code == E.INSUFFICIENT_CASH
    cash_out = fn.cash_operation("out", 125_000)
    assert (cash_out["document_number"], cash_out["number"], cash_out["drawer_after"]) == (5, 1, 0)
    assert [(r["kind"], r["amount"]) for r in fn.store.read_cash_journal()] == [
        ("cash_in", 100_000),
        ("cash_out", 125_000),
    ]
    assert fn.store.read_journal()[-1]["fd"] == 3  # the FN signed nothing for them
    assert fn.operation_register(cmd.OPERATION_DOCUMENT_NUMBER) == 5
    assert fn.money_register(cmd.MONEY_CASH_IN_TOTAL) == 100_000
    assert fn.money_register(cmd.MONEY_CASH_OUT_TOTAL) == 125_000


def test_cash_rules_follow_the_receipts_and_the_z_report_empties_the_drawer(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    fn.cash_operation("in", 20_000)
    fn.set_paper(False)
    with pytest.raises(FnError) as err:
        fn.cash_operation("in", 1)
    assert err.value.code == E.NO_RECEIPT_PAPER
    fn.set_paper(True)
    fn.open_receipt(0)
    with pytest.raises(FnError) as err:
        fn.cash_operation("out", 1)
    assert err.value.code == E.RECEIPT_OPEN
    fn.cancel_receipt()
    fn.advance(24 * 3600 + 60)
    with pytest.raises(FnError) as err:
        fn.cash_operation("out", 1)
    assert err.value.code == E.SHIFT_OVER_24H  # the receipts' error (8D)
    fn.close_shift(time.monotonic())
    assert fn.money_register(cmd.MONEY_CASH_IN_DRAWER) == 0
    assert fn.operation_register(cmd.OPERATION_CASH_IN_COUNT) == 0  # per shift
    assert fn.operation_register(cmd.OPERATION_CASH_IN_NUMBER) == 1  # running number: kept


def test_cash_counters_survive_a_crash_between_journal_and_state(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    fn.cash_operation("in", 7_000)
    before = json.loads((tmp_path / "state.json").read_text())
    fn.cash_operation("in", 3_000)
    fn.store.close()
    (tmp_path / "state.json").write_text(json.dumps(before))  # crash after the cash line, before the state
    with open(tmp_path / "cash.jsonl", "ab") as f:
        f.write(b'{"kind": "cash_in", "amo')  # torn write, never counted
    again = make_fn(tmp_path)
    assert (again.state.cash_in_drawer, again.state.cash_in_number, again.state.doc_number) == (10_000, 2, 3)
    assert len(again.store.read_cash_journal()) == 2


def test_device_answers_cash_commands_and_registers(tmp_path: Path) -> None:
    device = Device(make_fn(tmp_path))
    started = time.monotonic()
    refused = device.execute(cmd.build_request(cmd.CASH_IN, amount=500), started)
    assert refused == bytes([0x50, E.SHIFT_NOT_OPEN])
    device.fn.open_shift(started)
    answer = device.execute(cmd.build_request(cmd.CASH_IN, amount=50_000), started)
    assert cmd.parse_answer(cmd.CASH_IN, answer) == (0, {"operator": 30, "document_number": 2})
    out = device.execute(cmd.build_request(cmd.CASH_OUT, amount=50_001), started)
    assert cmd.parse_answer(cmd.CASH_OUT, out) == (E.INSUFFICIENT_CASH, {})
    drawer = device.execute(cmd.build_request(cmd.READ_MONEY_REGISTER, register=241), started)
    assert cmd.parse_answer(cmd.READ_MONEY_REGISTER, drawer)[1]["value"] == 50_000
    number = device.execute(cmd.build_request(cmd.READ_OPERATION_REGISTER, register=155), started)
    assert cmd.parse_answer(cmd.READ_OPERATION_REGISTER, number)[1]["value"] == 1


def _tlv_text(tag: int, text: str) -> bytes:
    return codec.tlv_string(tag, text)


def test_shift_reports_begun_with_ff41_ff42_carry_the_cashiers_tags(tmp_path: Path) -> None:
    fn = make_fn(tmp_path, fn_number="9999000011112222")
    device = Device(fn)
    ok = lambda command, **values: device.execute(cmd.build_request(command, **values), time.monotonic())  # noqa: E731
    assert ok(cmd.TLV_TO_DOCUMENT, tlv=_tlv_text(1021, "Иванова")) == cmd.build_answer(
        0xFF0C, E.RECEIPT_CLOSED
    )
    assert ok(cmd.BEGIN_CLOSE_SHIFT) == cmd.build_answer(0xFF42, E.SHIFT_NOT_OPEN)
    assert ok(cmd.BEGIN_OPEN_SHIFT) == cmd.build_answer(0xFF41, 0)
    for tag, text in ((1021, "Кассир Иванова А."), (1203, "500100732259")):
        assert ok(cmd.TLV_TO_DOCUMENT, tlv=_tlv_text(tag, text)) == cmd.build_answer(0xFF0C, 0)
    assert ok(cmd.OPEN_SHIFT)[:2] == bytes([0xE0, 0])
    assert ok(cmd.BEGIN_OPEN_SHIFT) == cmd.build_answer(0xFF41, E.NOT_IN_THIS_MODE)
    sell(fn)  # a receipt between: the open receipt takes FF0C, not the report
    assert ok(cmd.BEGIN_CLOSE_SHIFT) == cmd.build_answer(0xFF42, 0)
    ok(cmd.TLV_TO_DOCUMENT, tlv=_tlv_text(1021, "Петров"))
    assert ok(cmd.Z_REPORT)[:2] == bytes([0x41, 0])
    opened, receipt, closed = fn.store.read_journal()
    assert [(t["tag"], t["value"]) for t in opened["tlvs"]] == [
        (1021, "Кассир Иванова А."),
        (1203, "500100732259"),
    ]
    assert receipt["tlvs"] == []
    assert [(t["tag"], t["value"]) for t in closed["tlvs"]] == [(1021, "Петров")]
    # the FN's message for the OFD carries them too
    [(doc_type, body)] = codec.decode_tlvs(build_document_message(opened, fn.state.fn_number))
    assert doc_type == 2 and (1021, "Кассир Иванова А.".encode("cp1251")) in codec.decode_tlvs(body)


def test_a_shift_report_not_begun_or_abandoned_carries_no_tags(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())  # E0 alone, as before FF41 existed
    fn.begin_shift_report("close")
    fn.add_document_tlv(_tlv_text(1021, "Иванова"))
    fn.open_receipt(0)  # a receipt drops the report begun and left
    fn.cancel_receipt()
    fn.close_shift(time.monotonic())
    fn.begin_shift_report("open")
    fn.add_document_tlv(_tlv_text(1021, "Петров"))
    reloaded = make_fn(tmp_path)  # the begun report is persisted like the open receipt
    reloaded.open_shift(time.monotonic())
    assert [d["tlvs"] for d in reloaded.store.read_journal()] == [
        [],
        [],
        [{"tag": 1021, "raw": "Петров".encode("cp1251").hex(), "value": "Петров"}],
    ]


def test_a_receipts_cashier_tags_are_journaled_readable(tmp_path: Path) -> None:
    fn = make_fn(tmp_path)
    fn.open_shift(time.monotonic())
    fn.open_receipt(0)
    fn.add_document_tlv(_tlv_text(1021, "Иванова"))
    fn.add_document_tlv(_tlv_text(1203, "500100732259"))
    fn.add_item(item())
    record, _ = fn.close_receipt(close_values(10_000), time.monotonic())
    assert {t["tag"]: t["value"] for t in record["tlvs"]} == {1021: "Иванова", 1203: "500100732259"}
