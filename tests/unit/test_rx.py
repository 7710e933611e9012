"""The prescription rules of optics_core (addons/optics_core/tools/rx.py) without Odoo: grids, Axis with Cyl,
prism pairs, parsing as opticians type, notation, and transposition (property tests)."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("optics_rx", ROOT / "addons/optics_core/tools/rx.py")
rx = importlib.util.module_from_spec(_spec)
sys.modules["optics_rx"] = rx  # dataclasses resolve the module by name
_spec.loader.exec_module(rx)

GRIDS = [rx.SPH, rx.CYL, rx.AXIS, rx.ADD, rx.PRISM, rx.PD_MONO, rx.PD_BINO, rx.FITTING_HEIGHT,
         rx.CL_BASE_CURVE, rx.CL_DIAMETER]  # fmt: skip


def on_grid(grid):
    return st.sampled_from(grid.values())


#: Anything a user or a caller may throw at a field: decimals near and off the grids, floats, text.
ANY_VALUE = st.one_of(
    st.decimals(min_value=-40, max_value=200, places=3, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-40, max_value=200, allow_nan=False),
    st.integers(min_value=-40, max_value=200),
    st.text(alphabet="0123456789+-−,. ", max_size=8),
)


@settings(deadline=None, max_examples=300)
@given(grid=st.sampled_from(GRIDS), value=ANY_VALUE)
def test_every_accepted_value_is_on_its_grid(grid, value):
    try:
        accepted = grid.check(value)
    except rx.RxError as err:
        assert err.message and err.field == grid.code
        return
    assert grid.contains(accepted)
    assert grid.low <= accepted <= grid.high
    assert (accepted - grid.low) % grid.step == 0


@settings(deadline=None)
@given(sph=on_grid(rx.SPH), cyl=on_grid(rx.CYL), axis=on_grid(rx.AXIS))
def test_transposing_twice_is_the_identity(sph, cyl, axis):
    try:
        once = rx.transpose(sph, cyl, axis)
    except rx.RxError:
        assert not rx.SPH.contains(sph + cyl)
        return
    twice = rx.transpose(*once)
    expected_axis = int(axis) if cyl else None
    assert twice == (sph, cyl, expected_axis)
    # Same lens: the spherical equivalent and the power of each principal meridian are kept.
    assert rx.spherical_equivalent(*once[:2]) == rx.spherical_equivalent(sph, cyl)
    if cyl:
        assert {sph, sph + cyl} == {once[0], once[0] + once[1]}
        assert 1 <= once[2] <= 180 and abs(once[2] - int(axis)) == 90


@settings(deadline=None)
@given(value=st.one_of(on_grid(rx.SPH), on_grid(rx.CYL), on_grid(rx.ADD)))
def test_notation_reads_back(value):
    text = rx.format_power(value)
    assert rx.parse_value(text) == value
    assert text == "0,00" or text[0] in "+-"
    assert text.split(",")[1].__len__() == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+1,25", "1.25"), ("−0,75", "-0.75"), ("–2.5", "-2.5"), (" 3 ", "3"), ("1\u00a0,00", "1.00"),
     (-0.75, "-0.75"), (14.200000000000001, "14.2"), (2, "2"), (Decimal("0.5"), "0.5"),
     ("", None), (None, None)],
)  # fmt: skip
def test_parsing_as_opticians_type(raw, expected):
    assert rx.parse_value(raw) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), True, "abc", "1,2,3", "--1", "+", [1]])
def test_garbage_is_refused(raw):
    with pytest.raises(rx.RxError):
        rx.parse_value(raw, rx.SPH, "OD")


def test_boundaries_and_steps():
    assert rx.SPH.check("-30,00") == Decimal("-30.00")
    assert rx.SPH.check("+30.00") == Decimal("30.00")
    for bad in ("30.25", "-30.25", "0.13"):
        with pytest.raises(rx.RxError):
            rx.SPH.check(bad, "OD")
    with pytest.raises(rx.RxError) as caught:
        rx.SPH.check("+30,50", "OD")
    assert caught.value.field == "od_sph"
    assert "Сфера (Sph) OD" in caught.value.message and "диапазон" in caught.value.message
    with pytest.raises(rx.RxError, match="шагу 0,25"):
        rx.CYL.check("-1.3", "OS")
    assert rx.CL_BASE_CURVE.check(8.65) == Decimal("8.65")
    assert rx.CL_DIAMETER.check(14.2) == Decimal("14.2")


def test_axis_goes_with_the_cylinder_both_ways():
    with pytest.raises(rx.RxError, match="обязательна") as caught:
        rx.validate_eye("OD", -1, -0.5)
    assert caught.value.field == "od_axis"
    with pytest.raises(rx.RxError, match="только вместе с цилиндром"):
        rx.validate_eye("OS", -1, 0, 90)
    with pytest.raises(rx.RxError, match="180"):
        rx.validate_eye("OD", -1, -0.5, 0)
    with pytest.raises(rx.RxError):
        rx.validate_eye("OD", -1, -0.5, 181)
    eye = rx.validate_eye("OD", "-2,25", "-0,75", 90, "2,00")
    assert eye == rx.EyeRx(Decimal("-2.25"), Decimal("-0.75"), 90, Decimal("2.00"), None, None)


def test_prism_comes_with_its_base():
    with pytest.raises(rx.RxError):
        rx.validate_eye("OD", 0, prism=1)
    with pytest.raises(rx.RxError):
        rx.validate_eye("OD", 0, prism_base="in")
    with pytest.raises(rx.RxError):
        rx.validate_eye("OD", 0, prism=1, prism_base="left")
    eye = rx.validate_eye("OS", 0, prism="1,5", prism_base="out")
    assert rx.format_eye(eye) == "0,00 sph Prism 1,50 к виску"


def test_formats():
    assert [rx.format_power(v) for v in (1.25, -0.75, 0, Decimal("-0.00"))] == [
        "+1,25",
        "-0,75",
        "0,00",
        "0,00",
    ]
    assert rx.format_axis(90) == "90°"
    assert rx.format_mm(Decimal("32.5")) == "32,5"
    assert rx.format_mm(8.6, 2) == "8,60"
    eye = rx.validate_eye("OD", -2.25, -0.75, 90, 2)
    assert rx.format_eye(eye) == "-2,25 / -0,75 × 90° Add +2,00"
    assert rx.format_eye(rx.validate_eye("OS", -2)) == "-2,00 sph"


def test_minus_and_plus_cylinder_forms():
    assert rx.to_minus_cylinder(1, 2, 90) == (Decimal(3), Decimal(-2), 180)
    assert rx.to_minus_cylinder(-1, -2, 30) == (Decimal(-1), Decimal(-2), 30)
    assert rx.to_plus_cylinder(-1, -2, 30) == (Decimal(-3), Decimal(2), 120)
    assert rx.to_plus_cylinder(-1, 0, None) == (Decimal(-1), Decimal(0), None)
    with pytest.raises(rx.RxError, match="Транспозиция невозможна"):
        rx.transpose(-29, -2, 10)


def test_grid_values():
    values = rx.grid_values(-8, 6, "0.25")
    assert len(values) == 57 and values[0] == -8 and values[-1] == 6
    assert len(rx.grid_values(-4, 0, "0.25")) == 17
    assert rx.grid_values(1, 0, "0.25") == []
