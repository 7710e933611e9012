"""Prescription (Rx) rules in plain Python: grids, validation, transposition and opticians' notation.

Covers spectacle and contact-lens prescriptions as opticians write them (``-2,25 / -0,75 × 90°``).
No Odoo import and no relative import: the models call it (``from ..tools import rx``), and the unit tests
load it by file path (tests/unit/test_rx.py, property tests). Values are ``Decimal`` so that every grid
check is exact; user-facing messages are Russian, code and docstrings English.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

# Base direction of a prescribed prism, as stored (codes) and as written on a prescription (Russian).
PRISM_BASES = ("up", "down", "in", "out")
PRISM_BASE_LABELS = {"up": "вверх", "down": "вниз", "in": "к носу", "out": "к виску"}
# Oculus dexter / oculus sinister: the only eye codes a prescription uses.
EYES = ("OD", "OS")

# Without a grid a value may carry two decimals: the finest step of any Rx grid (0.25 D, 0.05 mm).
DEFAULT_DECIMALS = 2
# Typographic minus for Russian messages (prose); data notation (format_power) keeps the ASCII hyphen.
_MINUS_SIGN = "\u2212"


class RxError(ValueError):
    """A refused value: ``field`` is a machine code (``od_sph``), ``message`` the Russian explanation."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


def _fmt_number(value: Decimal, decimals: int) -> str:
    """``value`` with ``decimals`` decimals (rounded half up) and a decimal comma; sign as Python writes it.

    ``format`` rather than ``quantize``: it needs no context precision, so a huge refused value still prints.
    """
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP
        return format(value, f".{decimals}f").replace(".", ",")


def _display(value: Decimal, decimals: int, signed: bool) -> str:
    """A number for a Russian message: typographic minus, ``+`` only when ``signed``, decimal comma."""
    text = _fmt_number(abs(value), decimals)
    if text.strip("0,") == "":  # zero after rounding: never signed
        return text
    if value < 0:
        return _MINUS_SIGN + text
    return f"+{text}" if signed else text


def _with_unit(text: str, unit: str) -> str:
    # Degrees stick to the number (90°); other units follow a space (0,25 дптр).
    return f"{text}{unit}" if unit == "°" else f"{text} {unit}"


def _where(label: str, eye: str | None) -> str:
    return f"{label} {eye}" if eye else label


def _field(code: str, eye: str | None) -> str:
    return f"{eye.lower()}_{code}" if eye else code


@dataclass(frozen=True)
class Grid:
    """An inclusive range of values on a fixed step (the only values a lab or a maker works with)."""

    code: str
    label: str
    low: Decimal
    high: Decimal
    step: Decimal
    unit: str

    @property
    def decimals(self) -> int:
        """Decimals the step is written with (``0.25`` → 2, ``0.5`` → 1, ``1`` → 0)."""
        return max(0, -self.step.as_tuple().exponent)

    @property
    def signed(self) -> bool:
        """Powers that may be negative are always written with their sign (``+1,25``)."""
        return self.low < 0

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def values(self) -> list[Decimal]:
        return grid_values(self.low, self.high, self.step)

    def text(self, value: Decimal) -> str:
        """``value`` as this grid's messages show it (``+1,25``, ``−30,00``, ``32,5``, ``90``)."""
        return _display(value, self.decimals, self.signed)

    def check(self, value, eye: str | None = None) -> Decimal:
        """``value`` parsed and on this grid, quantized to the step's decimals; else ``RxError``."""
        where, field = _where(self.label, eye), _field(self.code, eye)
        parsed = parse_value(value, self, eye)
        if parsed is None:
            raise RxError(field, f"{where}: значение обязательно")
        if not self.low <= parsed <= self.high:
            bounds = _with_unit(f"{self.text(self.low)}…{self.text(self.high)}", self.unit)
            # An absurd magnitude is not echoed back digit by digit.
            shown = self.text(parsed) if parsed.adjusted() < _ECHO_DIGITS else "значение"
            raise RxError(field, f"{where}: {shown} вне допустимого диапазона {bounds}")
        if (parsed - self.low) % self.step != 0:
            step = _with_unit(_display(self.step, self.decimals, False), self.unit)
            raise RxError(field, f"{where}: {self.text(parsed)} не кратно шагу {step}")
        result = parsed.quantize(Decimal(1).scaleb(-self.decimals))
        return result.copy_abs() if result == 0 else result  # no "-0.00"


def _grid(code: str, label: str, low: str, high: str, step: str, unit: str) -> Grid:
    return Grid(code, label, Decimal(low), Decimal(high), Decimal(step), unit)


# The codes double as the prescription model's field suffixes: ``check(value, "OD")`` reports ``od_<code>``.
# Sphere: ±30 D in 0.25 D steps, ISO 21987 tolerance steps / the usual lab range of Russian labs and makers.
SPH = _grid("sph", "Сфера (Sph)", "-30.00", "30.00", "0.25", "дптр")
# Cylinder: ±10 D in 0.25 D, plus or minus form (transposition moves between them); usual lab range.
CYL = _grid("cyl", "Цилиндр (Cyl)", "-10.00", "10.00", "0.25", "дптр")
# Axis in whole degrees 1…180 (TABO scheme); 0° is not written, a horizontal axis is 180°.
AXIS = _grid("axis", "Ось (Axis)", "1", "180", "1", "°")
# Near addition 0.75…4.00 D in 0.25 D: the range of progressive, bifocal and office designs.
ADD = _grid("add", "Аддидация (Add)", "0.75", "4.00", "0.25", "дптр")
# Prescribed prism 0.25…10 prism dioptres in 0.25: more is not made in a spectacle lens (Fresnel instead).
PRISM = _grid("prism", "Призма", "0.25", "10.00", "0.25", "пр. дптр")
# Monocular PD 20…40 mm, to 0.5 mm: what a pupillometer reads, per eye.
PD_MONO = _grid("pd", "Монокулярный PD", "20.0", "40.0", "0.5", "мм")
# Binocular PD 40…80 mm, to 0.5 mm: children to wide adult faces.
PD_BINO = _grid("pd", "PD", "40.0", "80.0", "0.5", "мм")
# Fitting height of progressives 10…40 mm from the lowest point of the rim, to 0.5 mm.
FITTING_HEIGHT = _grid("height", "Высота центра", "10.0", "40.0", "0.5", "мм")
# CL base curve 7.00…10.00 mm in 0.05 mm: rigid (7–8.5) and soft (8.3–9.0) lenses, as makers list them.
CL_BASE_CURVE = _grid("bc", "Базовая кривизна (BC)", "7.00", "10.00", "0.05", "мм")
# Contact-lens diameter 12.0…16.0 mm in 0.1 mm: soft lenses (usually 13.8–14.5) with room at both ends.
CL_DIAMETER = _grid("dia", "Диаметр (DIA)", "12.0", "16.0", "0.1", "мм")
# Contact lenses reuse SPH, CYL, AXIS and ADD for their powers.

# Signs and separators opticians type: U+2212 minus, en/em dash, decimal comma, (non-breaking) spaces.
_NORMALIZE = str.maketrans(
    {"−": "-", "–": "-", "—": "-", ",": ".", "\u00a0": "", "\u202f": "", "\u2009": "", " ": ""}
)
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")  # ASCII digits only (\d admits any script)
# Longest number or text a message echoes back: a mistyped value shows, a pasted paragraph or 1E+999 not.
_ECHO_DIGITS = 15
_DECIMALS_TEXT = {
    0: "допускается только целое число",
    1: "не более одного знака после запятой",
    2: "не более двух знаков после запятой",
}


def _to_decimal(raw, field: str, where: str) -> Decimal | None:
    """Any accepted input as a finite Decimal (no decimals limit); None for empty input."""
    if raw is None:
        return None
    if isinstance(raw, bool):  # bool is an int subclass: True must not read as 1
        raise RxError(field, f"{where}: ожидается число, а не логическое значение")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise RxError(field, f"{where}: ожидается конечное число")
        # Decimal(repr(x)) reads the float as written (1.1 → 1.1, not its binary expansion). Rounding to
        # 9 decimals first drops the binary noise of ORM arithmetic (14.200000000000001 → 14.2): far below
        # any grid's step, far above that noise.
        return Decimal(repr(round(raw, 9)))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise RxError(field, f"{where}: ожидается конечное число")
        return raw
    if isinstance(raw, str):
        text = raw.strip().translate(_NORMALIZE)
        if not text:
            return None
        shown = raw.strip() if len(raw.strip()) <= _ECHO_DIGITS else raw.strip()[:_ECHO_DIGITS] + "…"
        if not _NUMBER.match(text):
            raise RxError(field, f"{where}: «{shown}» — не число")
        try:
            return Decimal(text)
        except InvalidOperation as err:  # pragma: no cover - the pattern above admits only decimals
            raise RxError(field, f"{where}: «{shown}» — не число") from err
    raise RxError(field, f"{where}: ожидается число")


def _decimals_of(value: Decimal) -> int:
    """Significant decimals of ``value`` (trailing zeros do not count: ``1.250`` has 2), counted exactly.

    Not ``normalize()``: it rounds to the context precision (28 digits) and would hide a tail.
    """
    _sign, digits, exponent = value.as_tuple()
    if exponent >= 0 or not any(digits):  # an integer, or zero however written (0.00)
        return 0
    text = "".join(map(str, digits))
    trailing_zeros = len(text) - len(text.rstrip("0"))
    return -exponent - min(trailing_zeros, -exponent)


def parse_value(raw, grid: Grid | None = None, eye: str | None = None) -> Decimal | None:
    """A number as opticians type it (``+1,25``, ``−0.75``, ``2``) as a Decimal; None for empty input.

    Accepts None/"", int, float, Decimal and str (sign ``+``/``-``/``−``/``–``, decimal comma or point,
    spaces and non-breaking spaces). Refuses bool, NaN, infinities, anything else that is not a number and
    more decimals than ``grid`` is written with (two without a grid). Range and step are ``Grid.check``'s.
    The ``RxError`` field is ``grid.code`` (``od_<code>`` with an eye), or ``value`` without a grid.
    """
    field = _field(grid.code, eye) if grid else "value"
    where = _where(grid.label, eye) if grid else "Значение"
    value = _to_decimal(raw, field, where)
    if value is None:
        return None
    allowed = grid.decimals if grid else DEFAULT_DECIMALS
    decimals = _decimals_of(value)
    if decimals > allowed:
        reason = _DECIMALS_TEXT.get(allowed, f"не более {allowed} знаков после запятой")
        if decimals <= _ECHO_DIGITS and value.adjusted() < _ECHO_DIGITS:
            reason = f"{_display(value, decimals, signed=bool(grid and grid.signed))} — {reason}"
        raise RxError(field, f"{where}: {reason}")
    return value


def grid_values(low, high, step) -> list[Decimal]:
    """Every point from ``low`` to ``high`` (inclusive) on ``step``, ascending; empty when low > high.

    Builds stock grids, e.g. ``grid_values(-8, 6, "0.25")`` × ``grid_values(-4, 0, "0.25")``.
    """
    low, high, step = (Decimal(str(v)) for v in (low, high, step))
    if not step > 0:
        raise ValueError(f"grid step must be positive, not {step}")
    count = int((high - low) / step) + 1 if high >= low else 0
    return [low + step * i for i in range(count)]


def format_power(value) -> str:
    """Opticians' notation: sign, two decimals, decimal comma (``+1,25``, ``-0,75``, ``0,00``); None → "".

    The minus is the ASCII hyphen-minus: this text lands in product names, lab orders and exports.
    """
    number = _to_decimal(value, "value", "Значение")
    if number is None:
        return ""
    text = _fmt_number(abs(number), 2)
    if text == "0,00":
        return text
    return f"-{text}" if number < 0 else f"+{text}"


def format_axis(value) -> str:
    """Axis in whole degrees: ``90°``; None → ""."""
    number = _to_decimal(value, "axis", "Ось (Axis)")
    return "" if number is None else f"{_fmt_number(number, 0)}°"


def format_mm(value, decimals: int = 1) -> str:
    """Millimetres with a decimal comma: ``32,5`` (PD, heights); ``decimals=2`` for a base curve ``8,60``."""
    number = _to_decimal(value, "value", "Значение")
    return "" if number is None else _fmt_number(number, decimals)


@dataclass(frozen=True)
class EyeRx:
    """One eye of a prescription, validated (``cyl`` 0 and ``axis`` None for a plain sphere)."""

    sph: Decimal
    cyl: Decimal
    axis: int | None
    add: Decimal | None = None
    prism: Decimal | None = None
    prism_base: str | None = None


def validate_eye(eye: str, sph, cyl=None, axis=None, add=None, prism=None, prism_base=None) -> EyeRx:
    """One eye (``OD``/``OS``) checked against every rule; ``RxError`` names the eye and the field in Russian.

    Sph is required (0 is a value); no Cyl means 0; Axis goes with a non-zero Cyl and only with it; a prism
    needs both its amount and its base.
    """
    if eye not in EYES:
        raise ValueError(f"eye must be OD or OS, not {eye!r}")
    low = eye.lower()
    sph_v = SPH.check(sph, eye)
    cyl_v = parse_value(cyl, CYL, eye)
    cyl_v = Decimal("0.00") if cyl_v is None or cyl_v == 0 else CYL.check(cyl_v, eye)
    axis_v = parse_value(axis, AXIS, eye)
    if cyl_v == 0:
        if axis_v is not None:
            raise RxError(f"{low}_axis", f"Ось (Axis) {eye} указывается только вместе с цилиндром")
        axis_i = None
    else:
        if axis_v is None:
            raise RxError(f"{low}_axis", f"Ось (Axis) {eye} обязательна, когда цилиндр не равен нулю")
        if axis_v == 0:
            raise RxError(
                f"{low}_axis",
                f"Ось (Axis) {eye}: 0° не пишется — горизонтальную ось записывают как 180°",
            )
        axis_i = int(AXIS.check(axis_v, eye))
    add_v = parse_value(add, ADD, eye)
    add_v = None if add_v is None else ADD.check(add_v, eye)
    prism_v = parse_value(prism, PRISM, eye)
    prism_v = None if prism_v is None or prism_v == 0 else prism_v
    prism_base = prism_base or None
    if prism_v is not None and prism_base is None:
        raise RxError(
            f"{low}_prism_base", f"Призма {eye}: укажите основание призмы (вверх, вниз, к носу, к виску)"
        )
    if prism_v is None and prism_base is not None:
        raise RxError(f"{low}_prism", f"Призма {eye}: основание указано, а величина призмы — нет")
    if prism_v is not None:
        prism_v = PRISM.check(prism_v, eye)
        if prism_base not in PRISM_BASES:
            raise RxError(f"{low}_prism_base", f"Призма {eye}: основание «{prism_base}» неизвестно")
    return EyeRx(sph_v, cyl_v, axis_i, add_v, prism_v, prism_base)


def _cylinder_form(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """The inputs of a transposition, each on its grid; the axis is required with a non-zero cylinder."""
    sph_v = SPH.check(sph)
    cyl_v = parse_value(cyl, CYL)
    cyl_v = Decimal("0.00") if cyl_v is None or cyl_v == 0 else CYL.check(cyl_v)
    if cyl_v == 0:
        return sph_v, cyl_v, None
    if axis is None or axis == "":
        raise RxError("axis", "Ось (Axis) обязательна, когда цилиндр не равен нулю")
    return sph_v, cyl_v, int(AXIS.check(axis))


def transpose(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """Cylinder transposition: (Sph + Cyl, −Cyl, Axis ± 90°), the same lens; a plain sphere is unchanged.

    ``RxError("sph", …)`` when the new sphere falls outside ``SPH``.
    """
    sph_v, cyl_v, axis_i = _cylinder_form(sph, cyl, axis)
    if cyl_v == 0:
        return sph_v, cyl_v, None
    new_sph = sph_v + cyl_v
    if not SPH.contains(new_sph):
        bounds = f"{SPH.text(SPH.low)}…{SPH.text(SPH.high)}"
        raise RxError(
            "sph",
            f"Транспозиция невозможна: сфера {SPH.text(new_sph)} вне допустимого диапазона "
            f"{_with_unit(bounds, SPH.unit)}",
        )
    return new_sph, -cyl_v, axis_i + 90 if axis_i <= 90 else axis_i - 90


def to_minus_cylinder(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """The same prescription with a minus (or no) cylinder: the form most labs (e.g. BBGR, ZEISS) require."""
    sph_v, cyl_v, axis_i = _cylinder_form(sph, cyl, axis)
    return transpose(sph_v, cyl_v, axis_i) if cyl_v > 0 else (sph_v, cyl_v, axis_i)


def to_plus_cylinder(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """The same prescription with a plus (or no) cylinder, as some ophthalmologists write it."""
    sph_v, cyl_v, axis_i = _cylinder_form(sph, cyl, axis)
    return transpose(sph_v, cyl_v, axis_i) if cyl_v < 0 else (sph_v, cyl_v, axis_i)


def spherical_equivalent(sph, cyl) -> Decimal:
    """Sph + Cyl / 2, exact (``-1,25 / -0,75`` → ``-1.625``); no Cyl counts as 0."""
    sph_v = parse_value(sph, SPH)
    if sph_v is None:
        raise RxError("sph", "Сфера (Sph): значение обязательно")
    cyl_v = parse_value(cyl, CYL) or Decimal(0)
    return sph_v + cyl_v / 2


def format_eye(rx: EyeRx) -> str:
    """One eye as written on a prescription: ``-2,25 / -0,75 × 90°``, ``-2,00 sph``, add and prism after."""
    if rx.cyl:
        text = f"{format_power(rx.sph)} / {format_power(rx.cyl)} × {format_axis(rx.axis)}"
    else:
        text = f"{format_power(rx.sph)} sph"
    if rx.add is not None:
        text += f" Add {format_power(rx.add)}"
    if rx.prism is not None:
        base = PRISM_BASE_LABELS.get(rx.prism_base or "", rx.prism_base or "")
        text += f" Prism {format_mm(rx.prism, 2)} {base}".rstrip()
    return text
