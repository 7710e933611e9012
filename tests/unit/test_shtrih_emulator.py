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
from kkt_emulator.fn import FiscalStorage, FnError
from kkt_emulator.store import StateStore

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
