"""Shtrih-M value codecs: money, quantity, text, FN dates and FFD TLV (with round-trip properties)."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih.codec import CodecError


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.integers(min_value=0, max_value=2**40 - 1))
def test_money_round_trip(kopecks: int) -> None:
    raw = codec.encode_money(kopecks)
    assert len(raw) == 5 and codec.decode_money(raw) == kopecks


def test_money_examples_and_limits() -> None:
    assert codec.encode_money(150_000) == bytes.fromhex("f049020000")
    assert codec.encode_money(codec.MONEY_UNSPECIFIED) == b"\xff" * 5
    for bad in (-1, 2**40):
        with pytest.raises(CodecError):
            codec.encode_money(bad)
    with pytest.raises(CodecError):
        codec.decode_money(b"\x00" * 4)


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.decimals(min_value=0, max_value=Decimal(2**48 - 1) / 10**6, places=6, allow_nan=False))
def test_quantity_round_trip(quantity: Decimal) -> None:
    raw = codec.encode_quantity(quantity)
    assert len(raw) == 6 and codec.decode_quantity(raw) == quantity


def test_quantity_examples_and_refusals() -> None:
    assert codec.encode_quantity(Decimal("1")) == (1_000_000).to_bytes(6, "little")
    assert codec.encode_quantity("0.5") == (500_000).to_bytes(6, "little")
    assert codec.decode_quantity((2_500_000).to_bytes(6, "little")) == Decimal("2.5")
    for bad in ("0.0000001", "-1", "NaN", Decimal(2**48)):
        with pytest.raises(CodecError):
            codec.encode_quantity(bad)


def test_text_cp1251() -> None:
    assert codec.encode_text("Линза", 10) == "Линза".encode("cp1251")
    assert codec.decode_text("Оправа".encode("cp1251") + b"\x00\x00") == "Оправа"
    with pytest.raises(CodecError):
        codec.encode_text("x" * 11, 10)
    with pytest.raises(CodecError):
        codec.encode_text("😀", 10)
    assert codec.encode_text("a😀", 10, errors="replace") == b"a?"


def test_fn_dates() -> None:
    assert codec.encode_date(date(2026, 3, 14)) == bytes([26, 3, 14])
    assert codec.decode_date(bytes([26, 3, 14])) == date(2026, 3, 14)
    assert codec.decode_date(bytes(3)) is None
    moment = datetime(2026, 12, 31, 23, 59)
    assert codec.encode_datetime(moment) == bytes([26, 12, 31, 23, 59])
    assert codec.decode_datetime(codec.encode_datetime(moment)) == moment
    assert codec.encode_datetime(None) == bytes(5) and codec.decode_datetime(bytes(5)) is None
    with pytest.raises(CodecError):
        codec.decode_datetime(bytes([26, 13, 1, 0, 0]))
    with pytest.raises(CodecError):
        codec.encode_date(date(1999, 1, 1))


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=300)), max_size=8))
def test_tlv_round_trip(items: list[tuple[int, bytes]]) -> None:
    raw = b"".join(codec.encode_tlv(tag, value) for tag, value in items)
    assert codec.decode_tlvs(raw) == items


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.binary(max_size=64))
def test_tlv_decoder_raises_only_codec_error(raw: bytes) -> None:
    with contextlib.suppress(CodecError):
        codec.decode_tlvs(raw)


def test_tlv_helpers() -> None:
    assert codec.tlv_byte(2108, 0) == bytes.fromhex("3c08 0100 00")
    assert codec.tlv_string(1008, "+7999") == bytes.fromhex("f003 0500") + b"+7999"
    assert codec.tlv_unixtime(1178, date(2026, 3, 14)) == bytes.fromhex("9a04 0400") + (1773446400).to_bytes(
        4, "little"
    )
    basis = codec.tlv_stlv(1174, [codec.tlv_string(1179, "N1")])
    ((tag, value),) = codec.decode_tlvs(basis)
    assert tag == 1174 and codec.decode_tlvs(value) == [(1179, b"N1")]
    with pytest.raises(CodecError):
        codec.decode_tlvs(bytes.fromhex("f003 0500") + b"+7")
