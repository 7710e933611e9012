"""Command layouts shared by driver and emulator: every request and answer packs and unpacks symmetrically."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError

SAMPLES: dict[str, Any] = {
    "u8": 7,
    "u16": 513,
    "u32": 70_000,
    "u48": 0x01_0203_0405,
    "money": 1_250_000,
    "qty": Decimal("1.5"),
    "date": date(2027, 5, 31),
    "datetime": datetime(2026, 3, 14, 9, 26),
    "text": "Оправа",
    "tail": b"\x01\x02",
    "u32s": [1, 2, 3],
}


def sample_values(layout: cmd.Layout) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in layout.fields:
        if f.kind == "ascii":
            value: Any = "9" * f.size
        elif f.kind == "raw":
            value = bytes(range(f.size))
        else:
            value = SAMPLES[f.kind]
        values[f.name] = [value] * f.count if f.count > 1 else value
    return values


@pytest.mark.parametrize("command", list(cmd.COMMANDS.values()), ids=lambda c: c.hex)
def test_every_layout_round_trips(command: cmd.Command) -> None:
    for layout in (command.request, command.answer):
        values = sample_values(layout)
        assert layout.unpack(layout.pack(values)) == values


@pytest.mark.parametrize("command", list(cmd.COMMANDS.values()), ids=lambda c: c.hex)
def test_request_and_answer_bodies(command: cmd.Command) -> None:
    params = sample_values(command.request)
    body = cmd.build_request(command, 30, **params)
    code, password, rest = cmd.parse_request(body)
    assert code == command.code and password == (30 if command.password else None)
    assert command.request.unpack(rest) == params
    data = sample_values(command.answer)
    answer = cmd.build_answer(command.code, 0, command.answer.pack(data))
    assert cmd.parse_answer(command, answer) == (0, data)
    assert len(answer) <= 255


def test_error_answer_carries_no_data() -> None:
    answer = cmd.build_answer(0xFF45, 0x6B, b"ignored")
    assert answer == bytes([0xFF, 0x45, 0x6B])
    assert cmd.parse_answer(cmd.CLOSE_RECEIPT_V2, answer) == (0x6B, {})


def test_answer_for_another_command_is_refused() -> None:
    with pytest.raises(CodecError):
        cmd.parse_answer(cmd.SHORT_STATUS, cmd.build_answer(0xFC))
    with pytest.raises(CodecError):
        cmd.parse_answer(cmd.SHORT_STATUS, b"\x10")


def test_operation_v2_wire_layout() -> None:
    body = cmd.build_request(
        cmd.OPERATION_V2,
        30,
        operation=1,
        quantity=Decimal(2),
        price=350_000,
        amount=700_000,
        tax_rate=6,
        department=1,
        payment_method=4,
        payment_subject=1,
        name="Линза",
    )
    expected = (
        b"\xff\x46"
        + (30).to_bytes(4, "little")
        + b"\x01"
        + (2_000_000).to_bytes(6, "little")
        + codec.encode_money(350_000)
        + codec.encode_money(700_000)
        + b"\xff" * 5  # tax sum: let the device compute
        + bytes([6, 1, 4, 1])
        + "Линза".encode("cp1251")
    )
    assert body == expected


def test_close_receipt_v2_wire_layout() -> None:
    payments = [0] * 16
    payments[0], payments[1] = 100, 200
    body = cmd.build_request(cmd.CLOSE_RECEIPT_V2, 30, payments=payments, taxation_system=1, text="R-1")
    params = body[6:]
    assert len(params) == 16 * 5 + 1 + 6 * 5 + 1 + 3
    assert params[:10] == codec.encode_money(100) + codec.encode_money(200)
    assert params[80] == 0 and params[111] == 1 and params[112:] == b"R-1"


@pytest.mark.parametrize("command", [cmd.CASH_IN, cmd.CASH_OUT], ids=lambda c: c.hex)
def test_cash_in_and_out_wire_layout(command: cmd.Command) -> None:
    """50 / 51: operator password (4 B) + amount (5 B kopecks); answer: operator (1 B) + document (2 B)."""
    body = cmd.build_request(command, 1, amount=50_000)
    assert body == bytes([command.code]) + (1).to_bytes(4, "little") + (50_000).to_bytes(5, "little")
    assert len(body) == 10 and command.prints and not command.read_only
    answer = bytes([command.code, 0, 30]) + (0x1234).to_bytes(2, "little")
    assert cmd.parse_answer(command, answer) == (0, {"operator": 30, "document_number": 0x1234})
    assert cmd.parse_answer(command, bytes([command.code, 0x46])) == (0x46, {})  # not enough cash
    with pytest.raises(CodecError):
        cmd.build_request(command, 1, amount=1 << 40)  # more than 5 bytes hold: never sent


def test_register_reads_wire_layout() -> None:
    """1A money register: 6-byte value; 1B operation register: 2-byte value; both ask by register number."""
    assert cmd.build_request(cmd.READ_MONEY_REGISTER, 30, register=cmd.MONEY_CASH_IN_DRAWER) == (
        b"\x1a" + (30).to_bytes(4, "little") + bytes([241])
    )
    money = bytes([0x1A, 0, 30]) + (123_456_789_012).to_bytes(6, "little")
    assert cmd.parse_answer(cmd.READ_MONEY_REGISTER, money) == (0, {"operator": 30, "value": 123_456_789_012})
    assert cmd.build_request(cmd.READ_OPERATION_REGISTER, 30, register=155)[-1] == 155
    operation = bytes([0x1B, 0, 30, 0x10, 0x27])
    assert cmd.parse_answer(cmd.READ_OPERATION_REGISTER, operation) == (0, {"operator": 30, "value": 10_000})
    assert (cmd.OPERATION_DOCUMENT_NUMBER, cmd.OPERATION_CASH_IN_NUMBER, cmd.OPERATION_CASH_OUT_NUMBER) == (
        152, 155, 156
    )  # fmt: skip


def test_pack_validation() -> None:
    with pytest.raises(CodecError):
        cmd.OPEN_RECEIPT.request.pack({})
    with pytest.raises(CodecError):
        cmd.OPEN_RECEIPT.request.pack({"receipt_type": 0, "bogus": 1})
    with pytest.raises(CodecError):
        cmd.FN_STATUS.answer.unpack(b"\x03")
    with pytest.raises(CodecError):
        cmd.command_bytes(0x1FF45)


def test_codes_and_flags() -> None:
    assert cmd.parse_code("ff45") == cmd.parse_code("0xFF45") == 0xFF45
    assert cmd.command_bytes(0x10) == b"\x10" and cmd.command_bytes(0xFF01) == b"\xff\x01"
    read_only = {c.hex for c in cmd.COMMANDS.values() if c.read_only}
    assert {"10", "FC", "FF01", "FF03", "FF39", "FF3F", "FF0A", "1A", "1B"} <= read_only
    assert not {"E0", "40", "41", "8D", "88", "FF46", "FF4D", "FF0C", "FF45", "FFD2", "50", "51"} & read_only
