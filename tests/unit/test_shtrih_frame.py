"""Shtrih-M framing: LRC, the documented worked example, and the incremental parser on hostile input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.frame import (
    ACK,
    ENQ,
    NAK,
    STX,
    BadFrame,
    Control,
    Frame,
    FrameError,
    FrameParser,
    Garbage,
    decode_frame,
    encode_frame,
    lrc,
)

# Worked example from the protocol notes: FF35 with password 30, and its answer.
FF35_REQUEST = bytes.fromhex("02 06 FF 35 1E 00 00 00 D2")
FF35_ANSWER = bytes.fromhex("02 03 FF 35 00 C9")


def test_worked_example_request() -> None:
    body = cmd.command_bytes(0xFF35) + (30).to_bytes(4, "little")
    assert encode_frame(body) == FF35_REQUEST
    assert decode_frame(FF35_REQUEST) == body
    assert cmd.split_command(body) == (0xFF35, bytes([30, 0, 0, 0]))


def test_worked_example_answer() -> None:
    body = cmd.build_answer(0xFF35, 0)
    assert encode_frame(body) == FF35_ANSWER
    assert FrameParser().feed(FF35_ANSWER) == [Frame(body)]


def test_lrc_is_xor_of_len_and_body() -> None:
    assert lrc(bytes.fromhex("06 FF 35 1E 00 00 00")) == 0xD2
    assert lrc(b"") == 0


def test_device_type_has_no_password() -> None:
    assert encode_frame(cmd.build_request(cmd.DEVICE_TYPE)) == bytes([STX, 1, 0xFC, 0xFD])


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x02",
        b"\x03\x01\xfc\xfd",
        b"\x02\x00\x00",
        b"\x02\x02\xfc",
        b"\x02\x01\xfc\x00",
        b"\x02\x01\xfc\xfd\x00",
    ],
)
def test_decode_frame_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(FrameError):
        decode_frame(raw)


def test_encode_rejects_bad_sizes() -> None:
    with pytest.raises(FrameError):
        encode_frame(b"")
    with pytest.raises(FrameError):
        encode_frame(bytes(256))


def test_parser_control_bytes_garbage_and_frames() -> None:
    parser = FrameParser()
    events = parser.feed(bytes([ENQ, 0x41, ACK]) + FF35_ANSWER + bytes([NAK]))
    assert events == [Control(ENQ), Garbage(0x41), Control(ACK), Frame(FF35_ANSWER[2:-1]), Control(NAK)]


def test_parser_control_values_inside_a_frame_are_data() -> None:
    body = bytes([0x10, ENQ, ACK, NAK, STX])
    assert FrameParser().feed(encode_frame(body)) == [Frame(body)]


def test_parser_reports_bad_lrc_and_empty_frames() -> None:
    damaged = FF35_ANSWER[:-1] + b"\x00"
    assert FrameParser().feed(damaged) == [BadFrame(damaged, "lrc")]
    assert FrameParser().feed(b"\x02\x00\x00") == [BadFrame(b"\x02\x00\x00", "empty")]


def test_parser_abort_drops_a_partial_frame() -> None:
    parser = FrameParser()
    assert parser.feed(FF35_ANSWER[:3]) == []
    assert parser.in_frame
    assert parser.abort() == BadFrame(FF35_ANSWER[:3], "timeout")
    assert not parser.in_frame and parser.abort() is None
    assert parser.feed(bytes([ENQ])) == [Control(ENQ)]


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.binary(max_size=2048), st.integers(min_value=1, max_value=64))
def test_parser_never_raises(stream: bytes, chunk: int) -> None:
    parser = FrameParser()
    for i in range(0, len(stream), chunk):
        for event in parser.feed(stream[i : i + chunk]):
            assert isinstance(event, Control | Frame | BadFrame | Garbage)
    parser.abort()


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.binary(max_size=300))
def test_decode_frame_raises_only_frame_error(raw: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_frame(raw)


_noise = st.binary(max_size=20).map(lambda b: bytes(x for x in b if x != STX))


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.lists(st.binary(min_size=1, max_size=255), min_size=1, max_size=5), _noise, st.integers(1, 17))
def test_frames_round_trip_through_parser_in_chunks(bodies: list[bytes], noise: bytes, chunk: int) -> None:
    stream = noise + b"".join(encode_frame(b) for b in bodies)
    parser = FrameParser()
    events = []
    for i in range(0, len(stream), chunk):
        events += parser.feed(stream[i : i + chunk])
    assert [e.body for e in events if isinstance(e, Frame)] == bodies
    assert not any(isinstance(e, BadFrame) for e in events)


@settings(deadline=None)  # timing varies on loaded CI machines; correctness does not
@given(st.binary(min_size=1, max_size=255))
def test_encode_decode_round_trip(body: bytes) -> None:
    assert decode_frame(encode_frame(body)) == body
