"""The prescription rules of optics_core (addons/optics_core/tools/rx.py) without Odoo.

Property tests (hypothesis) for the grids, the notation and cylinder transposition; examples for the
boundaries, Axis with Cyl, prism pairs, parsing as opticians type and the Russian messages. The module is
loaded by file path: it must stay importable without Odoo and without its package.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("optics_rx", ROOT / "addons/optics_core/tools/rx.py")
rx = importlib.util.module_from_spec(_spec)
sys.modules["optics_rx"] = rx  # dataclasses resolve the module by name
_spec.loader.exec_module(rx)

GRIDS = [rx.SPH, rx.CYL, rx.AXIS, rx.ADD, rx.PRISM, rx.PD_MONO, rx.PD_BINO, rx.FITTING_HEIGHT,
         rx.CL_BASE_CURVE, rx.CL_DIAMETER]  # fmt: skip
D = Decimal


def on_grid(grid):
    return st.sampled_from(grid.values())


#: Anything a user or a caller may throw at a field: decimals near and far off the grids (NaN, infinities,
#: huge exponents), floats, integers, bools, text typed the optician's way, and arbitrary text.
ANY_VALUE = st.one_of(
    st.decimals(min_value=-40, max_value=200, places=2),
    st.decimals(min_value=-40, max_value=200, places=3),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-40, max_value=200),
    st.floats(),
    st.integers(min_value=-40, max_value=200),
    st.booleans(),
    st.none(),
    st.text(alphabet="0123456789+-−–,. \u00a0", max_size=8),
    st.text(max_size=12),
)


# -- property tests --------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=400)
@given(grid=st.sampled_from(GRIDS), value=ANY_VALUE, eye=st.sampled_from([None, "OD", "OS"]))
def test_every_accepted_value_is_on_its_grid(grid, value, eye):
    try:
        accepted = grid.check(value, eye)
    except rx.RxError as err:
        assert err.field == (f"{eye.lower()}_{grid.code}" if eye else grid.code)
        assert err.message and str(err) == err.message
        assert grid.label in err.message
        return
    assert isinstance(accepted, Decimal)
    assert grid.contains(accepted)
    assert grid.low <= accepted <= grid.high
    assert (accepted - grid.low) % grid.step == 0
    assert accepted == rx.parse_value(value)  # the value itself, never a rounded neighbour
    assert -accepted.as_tuple().exponent == grid.decimals  # quantized to the grid's decimals


@settings(deadline=None)
@given(grid=st.sampled_from(GRIDS), data=st.data())
def test_every_grid_point_is_accepted_and_its_neighbours_are_not(grid, data):
    value = data.draw(on_grid(grid))
    assert grid.check(value) == value
    assert grid.check(str(value).replace(".", ",")) == value
    # A hundredth (or a tenth, or a unit) off the grid: refused for the step or for the decimals.
    off = value + Decimal(1).scaleb(-grid.decimals) * data.draw(st.sampled_from([-1, 1]))
    if grid.step != Decimal(1).scaleb(-grid.decimals) and grid.low <= off <= grid.high:
        with pytest.raises(rx.RxError, match="шагу"):
            grid.check(off)
    with pytest.raises(rx.RxError, match=r"знак|целое"):
        grid.check(value + Decimal(1).scaleb(-grid.decimals - 1))


def test_grid_values_are_the_grid():
    for grid in GRIDS:
        values = grid.values()
        assert values == sorted(values) and values[0] == grid.low and values[-1] == grid.high
        assert len(values) == (grid.high - grid.low) / grid.step + 1
        assert all(grid.contains(v) for v in values)


@settings(deadline=None)
@given(sph=on_grid(rx.SPH), cyl=on_grid(rx.CYL), axis=on_grid(rx.AXIS))
def test_transposing_twice_is_the_identity(sph, cyl, axis):
    assume(rx.SPH.contains(sph + cyl))
    once = rx.transpose(sph, cyl, axis)
    twice = rx.transpose(*once)
    assert twice == (sph, cyl, int(axis) if cyl else None)
    if cyl:
        assert once[1] == -cyl and 1 <= once[2] <= 180 and abs(once[2] - int(axis)) == 90
    else:
        assert once == (sph, cyl, None)


@settings(deadline=None)
@given(sph=on_grid(rx.SPH), cyl=on_grid(rx.CYL), axis=on_grid(rx.AXIS))
def test_transposition_refuses_exactly_a_sphere_off_the_grid(sph, cyl, axis):
    if rx.SPH.contains(sph + cyl):
        rx.transpose(sph, cyl, axis)
    else:
        with pytest.raises(rx.RxError, match="Транспозиция невозможна") as caught:
            rx.transpose(sph, cyl, axis)
        assert caught.value.field == "sph"


def principal_meridians(sph, cyl, axis):
    """Power along each principal meridian (degrees mod 180): Sph along the axis, Sph + Cyl across it."""
    if not cyl:
        return {"any": sph}
    return {int(axis) % 180: sph, (int(axis) + 90) % 180: sph + cyl}


def meridian_power(sph, cyl, axis, theta):
    """Power of a sphero-cylinder along meridian ``theta`` (degrees): Sph + Cyl·sin²(θ − axis)."""
    return float(sph) + float(cyl) * math.sin(math.radians(theta - float(axis or 0))) ** 2


@settings(deadline=None)
@given(
    sph=on_grid(rx.SPH),
    cyl=on_grid(rx.CYL),
    axis=on_grid(rx.AXIS),
    theta=st.floats(min_value=0, max_value=180),
)
def test_transposition_keeps_the_lens(sph, cyl, axis, theta):
    assume(rx.SPH.contains(sph + cyl))
    new_sph, new_cyl, new_axis = rx.transpose(sph, cyl, axis)
    assert rx.spherical_equivalent(new_sph, new_cyl) == rx.spherical_equivalent(sph, cyl)
    assert principal_meridians(new_sph, new_cyl, new_axis) == principal_meridians(sph, cyl, axis)
    assert math.isclose(
        meridian_power(new_sph, new_cyl, new_axis, theta),
        meridian_power(sph, cyl, axis if cyl else None, theta),
        abs_tol=1e-9,
    )


@settings(deadline=None)
@given(sph=on_grid(rx.SPH), cyl=on_grid(rx.CYL), axis=on_grid(rx.AXIS))
def test_minus_and_plus_forms_have_their_sign(sph, cyl, axis):
    assume(rx.SPH.contains(sph + cyl))
    minus, plus = rx.to_minus_cylinder(sph, cyl, axis), rx.to_plus_cylinder(sph, cyl, axis)
    assert minus[1] <= 0 <= plus[1]
    original = (sph, cyl, int(axis) if cyl else None)
    assert original in (minus, plus)  # the form already in the wanted sign is returned as is
    assert rx.to_minus_cylinder(*plus) == minus and rx.to_plus_cylinder(*minus) == plus


@settings(deadline=None)
@given(value=st.one_of(on_grid(rx.SPH), on_grid(rx.CYL), on_grid(rx.ADD)))
def test_notation_reads_back(value):
    text = rx.format_power(value)
    assert rx.parse_value(text) == value
    assert rx.parse_value(text, rx.SPH if abs(value) > 10 else rx.CYL, "OD") == value
    assert text == "0,00" or text[0] in "+-"
    assert len(text.split(",")[1]) == 2


@settings(deadline=None)
@given(sph=on_grid(rx.SPH), cyl=on_grid(rx.CYL))
def test_spherical_equivalent_is_exact(sph, cyl):
    equivalent = rx.spherical_equivalent(sph, cyl)
    assert equivalent * 2 == sph * 2 + cyl
    assert rx.spherical_equivalent(str(sph), None) == sph


# -- examples --------------------------------------------------------------------------------------------


def test_boundaries_and_steps():
    assert rx.SPH.check("-30,00") == D("-30.00")
    assert rx.SPH.check("+30.00") == D("30.00")
    assert rx.SPH.check(0) == D("0.00") and str(rx.SPH.check("-0")) == "0.00"
    for bad in ("30.25", "-30.25", "+30,25", "0.13", "0,13"):
        with pytest.raises(rx.RxError):
            rx.SPH.check(bad, "OD")
    assert rx.CYL.check("-10") == D("-10.00")
    with pytest.raises(rx.RxError):
        rx.CYL.check("-10.25")
    assert rx.ADD.check("0,75") == D("0.75") and rx.ADD.check(4) == D("4.00")
    for bad in ("0.50", "4.25"):
        with pytest.raises(rx.RxError):
            rx.ADD.check(bad)
    assert rx.PD_MONO.check("32,5") == D("32.5")
    assert rx.PD_BINO.check(64) == D("64.0")
    with pytest.raises(rx.RxError, match="шагу 0,5 мм"):
        rx.PD_BINO.check("64,2")
    assert rx.CL_BASE_CURVE.check(8.65) == D("8.65")
    assert rx.CL_DIAMETER.check(14.2) == D("14.2")
    with pytest.raises(rx.RxError, match="обязательно"):
        rx.SPH.check(None, "OD")


def test_messages_name_the_eye_the_field_and_the_range():
    with pytest.raises(rx.RxError) as caught:
        rx.SPH.check("+30,50", "OD")
    assert caught.value.field == "od_sph"
    assert str(caught.value) == "Сфера (Sph) OD: +30,50 вне допустимого диапазона −30,00…+30,00 дптр"
    with pytest.raises(rx.RxError) as caught:
        rx.SPH.check("1.3", "OS")
    assert caught.value.field == "os_sph"
    assert caught.value.message == "Сфера (Sph) OS: +1,30 не кратно шагу 0,25 дптр"
    with pytest.raises(rx.RxError) as caught:
        rx.CYL.check("-1,125", "OD")
    assert caught.value.field == "od_cyl"
    assert "Цилиндр (Cyl) OD" in caught.value.message and "двух знаков" in caught.value.message
    with pytest.raises(rx.RxError, match=r"Ось \(Axis\) OS: 181 вне допустимого диапазона 1…180°"):
        rx.AXIS.check(181, "OS")
    with pytest.raises(rx.RxError, match="целое"):
        rx.AXIS.check("90,5", "OD")
    with pytest.raises(rx.RxError) as caught:
        rx.PD_MONO.check(41, "OD")
    assert caught.value.field == "od_pd" and "20,0…40,0 мм" in caught.value.message
    # A huge value is not echoed back digit by digit.
    with pytest.raises(rx.RxError) as caught:
        rx.SPH.check(D("1E+999"))
    assert len(caught.value.message) < 100


def test_rx_error():
    err = rx.RxError("od_sph", "Сфера (Sph) OD: значение обязательно")
    assert isinstance(err, ValueError)
    assert (err.field, err.message, str(err)) == (
        "od_sph",
        "Сфера (Sph) OD: значение обязательно",
        err.message,
    )


def test_axis_goes_with_the_cylinder_both_ways():
    with pytest.raises(rx.RxError) as caught:
        rx.validate_eye("OD", -1, -0.5)
    assert caught.value.field == "od_axis"
    assert caught.value.message == "Ось (Axis) OD обязательна, когда цилиндр не равен нулю"
    for cyl in (0, "0,00", None, ""):
        with pytest.raises(rx.RxError) as caught:
            rx.validate_eye("OS", -1, cyl, 90)
        assert caught.value.field == "os_axis"
        assert caught.value.message == "Ось (Axis) OS указывается только вместе с цилиндром"
    with pytest.raises(rx.RxError, match="180°") as caught:
        rx.validate_eye("OD", -1, -0.5, 0)
    assert caught.value.field == "od_axis"
    for axis in (181, -5, "90,5"):
        with pytest.raises(rx.RxError):
            rx.validate_eye("OD", -1, -0.5, axis)
    assert rx.validate_eye("OD", -1, -0.5, 180).axis == 180
    assert rx.validate_eye("OD", -1, -0.5, "1").axis == 1
    eye = rx.validate_eye("OD", "-2,25", "-0,75", 90, "2,00")
    assert eye == rx.EyeRx(D("-2.25"), D("-0.75"), 90, D("2.00"), None, None)
    plain = rx.validate_eye("OS", 0)
    assert plain == rx.EyeRx(D("0.00"), D("0.00"), None, None, None, None)


def test_sphere_is_required_and_eye_is_od_or_os():
    with pytest.raises(rx.RxError) as caught:
        rx.validate_eye("OS", None, -1, 90)
    assert caught.value.field == "os_sph" and "Сфера (Sph) OS" in caught.value.message
    with pytest.raises(ValueError, match="OD or OS"):
        rx.validate_eye("OU", 0)


def test_prism_comes_with_its_base():
    with pytest.raises(rx.RxError) as caught:
        rx.validate_eye("OD", 0, prism=1)
    assert caught.value.field == "od_prism_base" and "Призма OD" in caught.value.message
    with pytest.raises(rx.RxError) as caught:
        rx.validate_eye("OS", 0, prism_base="in")
    assert caught.value.field == "os_prism" and "Призма OS" in caught.value.message
    with pytest.raises(rx.RxError, match="основание «left»"):
        rx.validate_eye("OD", 0, prism=1, prism_base="left")
    with pytest.raises(rx.RxError, match="вне допустимого диапазона"):
        rx.validate_eye("OD", 0, prism="10,25", prism_base="up")
    eye = rx.validate_eye("OS", 0, prism="1,5", prism_base="out")
    assert (eye.prism, eye.prism_base) == (D("1.50"), "out")
    assert rx.format_eye(eye) == "0,00 sph Prism 1,50 к виску"
    assert set(rx.PRISM_BASE_LABELS) == set(rx.PRISM_BASES)
    assert rx.PRISM_BASE_LABELS["in"] == "к носу"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+1,25", "1.25"), ("−0,75", "-0.75"), ("–2.5", "-2.5"), ("-0,5", "-0.5"), (" 3 ", "3"),
     ("1\u00a0,00", "1.00"), ("\u00a0+2,00\u00a0", "2.00"), ("− 1,25", "-1.25"), (".5", "0.5"),
     (-0.75, "-0.75"), (0.1, "0.1"), (14.200000000000001, "14.2"), (2, "2"), (D("0.5"), "0.5"),
     (D("1.250"), "1.25"), ("", None), ("  ", None), (None, None)],
)  # fmt: skip
def test_parsing_as_opticians_type(raw, expected):
    assert rx.parse_value(raw) == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    "raw",
    [float("nan"), float("inf"), float("-inf"), D("NaN"), D("sNaN"), D("Infinity"), True, False, "abc",
     "1,2,3", "--1", "+", "1e3", "0x10", "½", "٣", "1.2.3", [1], object(), "1,255", 0.125, D("0.001")],
)  # fmt: skip
def test_garbage_is_refused(raw):
    with pytest.raises(rx.RxError) as caught:
        rx.parse_value(raw, rx.SPH, "OD")
    assert caught.value.field == "od_sph" and caught.value.message.startswith("Сфера (Sph) OD")


def test_parse_value_without_a_grid():
    with pytest.raises(rx.RxError) as caught:
        rx.parse_value("abc")
    assert caught.value.field == "value"
    with pytest.raises(rx.RxError, match="двух знаков"):
        rx.parse_value("1,125")
    # The grid decides the decimals; trailing zeros do not count.
    assert rx.parse_value("8,650", rx.CL_BASE_CURVE) == D("8.65")
    assert rx.parse_value("90,0", rx.AXIS) == 90
    with pytest.raises(rx.RxError, match="одного знака"):
        rx.parse_value("32,25", rx.PD_MONO)


def test_formats():
    assert [rx.format_power(v) for v in (1.25, -0.75, 0, D("-0.00"), "−2,5", D("12"))] == [
        "+1,25",
        "-0,75",
        "0,00",
        "0,00",
        "-2,50",
        "+12,00",
    ]
    assert rx.format_power(None) == "" and rx.format_axis(None) == "" and rx.format_mm(None) == ""
    assert rx.format_axis(90) == "90°" and rx.format_axis(D("180")) == "180°"
    assert rx.format_mm(D("32.5")) == "32,5" and rx.format_mm(64) == "64,0"
    assert rx.format_mm(8.6, 2) == "8,60" and rx.format_mm(D("8.65"), decimals=2) == "8,65"


def test_format_eye():
    assert rx.format_eye(rx.validate_eye("OD", -2.25, -0.75, 90)) == "-2,25 / -0,75 × 90°"
    assert rx.format_eye(rx.validate_eye("OD", -2.25, -0.75, 90, 2)) == "-2,25 / -0,75 × 90° Add +2,00"
    assert rx.format_eye(rx.validate_eye("OS", -2.25)) == "-2,25 sph"
    assert rx.format_eye(rx.validate_eye("OS", "+1,5", 0, None, "2,5")) == "+1,50 sph Add +2,50"
    eye = rx.validate_eye("OD", 1, 0.5, 45, prism=1, prism_base="in")
    assert rx.format_eye(eye) == "+1,00 / +0,50 × 45° Prism 1,00 к носу"


def test_transposition_examples():
    assert rx.transpose(-2, -1, 90) == (D("-3"), D("1"), 180)
    assert rx.transpose(-3, 1, 180) == (D("-2"), D("-1"), 90)
    assert rx.transpose("+1,00", "−0,50", 45) == (D("0.5"), D("0.5"), 135)
    assert rx.transpose(1, 0, None) == (D(1), D(0), None)
    with pytest.raises(rx.RxError, match="Транспозиция невозможна: сфера −31,00") as caught:
        rx.transpose(-29, -2, 10)
    assert caught.value.field == "sph"
    with pytest.raises(rx.RxError, match="сфера \\+31,00"):
        rx.transpose(29, 2, 10)
    with pytest.raises(rx.RxError) as caught:
        rx.transpose(-1, -1, None)
    assert caught.value.field == "axis"


def test_minus_and_plus_cylinder_forms():
    assert rx.to_minus_cylinder(1, 2, 90) == (D(3), D(-2), 180)
    assert rx.to_minus_cylinder(-1, -2, 30) == (D(-1), D(-2), 30)
    assert rx.to_plus_cylinder(-1, -2, 30) == (D(-3), D(2), 120)
    assert rx.to_plus_cylinder(3, 2, 180) == (D(3), D(2), 180)
    assert rx.to_plus_cylinder(-1, 0, None) == (D(-1), D(0), None)
    assert rx.to_minus_cylinder(-1, None, None) == (D(-1), D(0), None)
    with pytest.raises(rx.RxError, match="Транспозиция невозможна"):
        rx.to_plus_cylinder(-29, -2, 10)


def test_spherical_equivalent_examples():
    assert rx.spherical_equivalent(-1.25, -0.75) == D("-1.625")
    assert rx.spherical_equivalent("+2,00", "-1,00") == D("1.5")
    assert rx.spherical_equivalent(-3, None) == D(-3)


def test_grid_values():
    values = rx.grid_values(-8, 6, "0.25")
    assert len(values) == 57 and values[0] == -8 and values[-1] == 6
    cyl = rx.grid_values(-4, 0, "0.25")
    assert len(cyl) == 17 and len(values) * len(cyl) == 969  # the stock grid Sph −8…+6 × Cyl 0…−4
    assert rx.grid_values(D("-0.50"), D("0.50"), D("0.25")) == [
        D(v) for v in ("-0.5", "-0.25", "0", "0.25", "0.5")
    ]
    assert rx.grid_values(1, 0, "0.25") == []
    with pytest.raises(ValueError):
        rx.grid_values(0, 1, 0)


def test_long_garbage_is_not_echoed_whole():
    with pytest.raises(rx.RxError) as caught:
        rx.parse_value("x" * 1000, rx.SPH, "OD")
    assert caught.value.message.startswith("Сфера (Sph) OD: «xxx") and len(caught.value.message) < 80
    with pytest.raises(rx.RxError, match="«abc» — не число"):
        rx.parse_value("abc", rx.SPH, "OD")
