"""Prescription (Rx) rules in plain Python: grids, validation, transposition and opticians' notation.

No Odoo import: the models call it, and ``make test`` tests it alone (tests/unit/test_rx.py, property tests).
Values are ``Decimal`` so that every grid check is exact; user-facing messages are Russian.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PRISM_BASES = ("up", "down", "in", "out")
PRISM_BASE_LABELS = {"up": "вверх", "down": "вниз", "in": "к носу", "out": "к виску"}
EYES = ("OD", "OS")


class RxError(ValueError):
    """A refused value: ``field`` is a machine code (``od_sph``), ``message`` the Russian explanation."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


def _fmt_number(value: Decimal, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _signed(value: Decimal, decimals: int = 2) -> str:
    text = _fmt_number(abs(value), decimals)
    if value > 0:
        return f"+{text}"
    return f"-{text}" if value < 0 else text


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
        return max(0, -self.step.as_tuple().exponent)

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def values(self) -> list[Decimal]:
        return grid_values(self.low, self.high, self.step)

    def _signed_grid(self) -> bool:
        return self.low < 0

    def text(self, value: Decimal) -> str:
        return _signed(value, self.decimals) if self._signed_grid() else _fmt_number(value, self.decimals)

    def check(self, value, eye: str | None = None) -> Decimal:
        """``value`` parsed and on this grid, quantized to the step's decimals; else ``RxError``."""
        where = f"{self.label} {eye}" if eye else self.label
        field = f"{eye.lower()}_{self.code}" if eye else self.code
        parsed = parse_value(value, self, eye)
        if parsed is None:
            raise RxError(field, f"{where}: значение обязательно")
        if not self.low <= parsed <= self.high:
            raise RxError(
                field,
                f"{where}: {self.text(parsed)} вне допустимого диапазона "
                f"{self.text(self.low)}…{self.text(self.high)} {self.unit}",
            )
        if (parsed - self.low) % self.step != 0:
            step = _fmt_number(self.step, self.decimals)
            raise RxError(field, f"{where}: {self.text(parsed)} не кратно шагу {step} {self.unit}")
        return parsed.quantize(self.step) if self.decimals else parsed.quantize(Decimal(1))


def _grid(code, label, low, high, step, unit) -> Grid:
    return Grid(code, label, Decimal(low), Decimal(high), Decimal(step), unit)


# Spectacle powers: ±30 D and 0.25 D steps cover what Russian labs and lens makers accept (ISO 21987 steps).
SPH = _grid("sph", "Сфера (Sph)", "-30.00", "30.00", "0.25", "дптр")
CYL = _grid("cyl", "Цилиндр (Cyl)", "-10.00", "10.00", "0.25", "дптр")
# Axis in whole degrees, 1…180 (TABO); 0 is written as 180.
AXIS = _grid("axis", "Ось (Axis)", "1", "180", "1", "°")
# Addition for near vision: 0.75…4.00 D, the range of progressive and bifocal designs.
ADD = _grid("add", "Аддидация (Add)", "0.75", "4.00", "0.25", "дптр")
# Prescribed prism, 0.25…10 prism dioptres; more is not made in spectacle lenses.
PRISM = _grid("prism", "Призма", "0.25", "10.00", "0.25", "пр. дптр")
# Pupillary distance: monocular 20…40 mm, binocular 40…80 mm, measured to 0.5 mm (pupillometer).
PD_MONO = _grid("pd", "Монокулярный PD", "20.0", "40.0", "0.5", "мм")
PD_BINO = _grid("pd", "PD", "40.0", "80.0", "0.5", "мм")
# Fitting height for progressives: 10…40 mm from the lens bottom, to 0.5 mm.
FITTING_HEIGHT = _grid("height", "Высота центра", "10.0", "40.0", "0.5", "мм")
# Contact lenses: base curve 7.00…10.00 mm in 0.05 mm, diameter 12.0…16.0 mm in 0.1 mm (soft and RGP lenses).
CL_BASE_CURVE = _grid("bc", "Базовая кривизна (BC)", "7.00", "10.00", "0.05", "мм")
CL_DIAMETER = _grid("dia", "Диаметр (DIA)", "12.0", "16.0", "0.1", "мм")

_MINUS = str.maketrans({"−": "-", "–": "-", "—": "-", ",": ".", "\u00a0": "", "\u202f": "", " ": ""})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_value(raw, grid: Grid | None = None, eye: str | None = None) -> Decimal | None:
    """A number as opticians type it (``+1,25``, ``−0.75``, ``2``) as a Decimal; None for empty input."""
    field = (f"{eye.lower()}_{grid.code}" if eye else grid.code) if grid else "value"
    where = (f"{grid.label} {eye}" if eye else grid.label) if grid else "Значение"
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise RxError(field, f"{where}: ожидается число, а не логическое значение")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise RxError(field, f"{where}: ожидается конечное число")
        # A float from the ORM carries binary noise (14.2 stored as 14.200000000000001): 9 decimals are
        # far below any grid's step and far above that noise.
        return Decimal(repr(round(raw, 9)))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise RxError(field, f"{where}: ожидается конечное число")
        return raw
    if isinstance(raw, str):
        text = raw.strip().translate(_MINUS)
        if not text:
            return None
        if not _NUMBER.match(text):
            raise RxError(field, f"{where}: «{raw.strip()}» — не число")
        try:
            return Decimal(text)
        except InvalidOperation as err:  # pragma: no cover - the pattern above admits only decimals
            raise RxError(field, f"{where}: «{raw.strip()}» — не число") from err
    raise RxError(field, f"{where}: ожидается число")


def grid_values(low, high, step) -> list[Decimal]:
    """Every point from ``low`` to ``high`` (inclusive) on ``step``, ascending; empty when low > high."""
    low, high, step = Decimal(str(low)), Decimal(str(high)), Decimal(str(step))
    count = int((high - low) / step) + 1 if high >= low else 0
    return [low + step * i for i in range(count)]


def format_power(value) -> str:
    """Opticians' notation: sign, two decimals, decimal comma (``+1,25``, ``-0,75``, ``0,00``)."""
    if value is None:
        return ""
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = _fmt_number(abs(number), 2)
    if number > 0:
        return f"+{text}"
    return f"-{text}" if number < 0 else text


def format_axis(value) -> str:
    return "" if value is None else f"{int(value)}°"


def format_mm(value, decimals: int = 1) -> str:
    return "" if value is None else _fmt_number(Decimal(str(value)), decimals)


@dataclass(frozen=True)
class EyeRx:
    """One eye of a spectacle prescription, validated (``cyl`` 0 and ``axis`` None for a plain sphere)."""

    sph: Decimal
    cyl: Decimal
    axis: int | None
    add: Decimal | None = None
    prism: Decimal | None = None
    prism_base: str | None = None


def validate_eye(eye: str, sph, cyl=None, axis=None, add=None, prism=None, prism_base=None) -> EyeRx:
    """One eye checked against every rule; ``RxError`` names the eye and the field in Russian."""
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
                f"{low}_axis", f"Ось (Axis) {eye}: 0° не пишется, горизонтальную ось записывают как 180°"
            )
        axis_i = int(AXIS.check(axis_v, eye))
    add_v = parse_value(add, ADD, eye)
    add_v = None if add_v is None else ADD.check(add_v, eye)
    prism_v = parse_value(prism, PRISM, eye)
    if prism_v == 0:
        prism_v = None
    if (prism_v is None) != (not prism_base):
        raise RxError(f"{low}_prism", f"Призма {eye}: указываются и величина, и основание, или ничего")
    if prism_v is not None:
        prism_v = PRISM.check(prism_v, eye)
        if prism_base not in PRISM_BASES:
            raise RxError(f"{low}_prism_base", f"Призма {eye}: основание «{prism_base}» неизвестно")
    return EyeRx(sph_v, cyl_v, axis_i, add_v, prism_v, prism_base or None)


def transpose(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """Cylinder transposition: (Sph + Cyl, −Cyl, Axis ± 90°); a plain sphere is unchanged."""
    sph_v = Decimal(str(sph))
    cyl_v = Decimal(str(cyl or 0))
    if cyl_v == 0:
        return sph_v, cyl_v, None
    new_sph = sph_v + cyl_v
    if not SPH.contains(new_sph):
        raise RxError(
            "sph",
            f"Транспозиция невозможна: сфера {format_power(new_sph)} вне диапазона "
            f"{format_power(SPH.low)}…{format_power(SPH.high)} дптр",
        )
    axis_i = int(axis)
    return new_sph, -cyl_v, axis_i + 90 if axis_i <= 90 else axis_i - 90


def to_minus_cylinder(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """The same prescription with a minus (or no) cylinder (what most labs, e.g. ZEISS, expect)."""
    if Decimal(str(cyl or 0)) > 0:
        return transpose(sph, cyl, axis)
    cyl_v = Decimal(str(cyl or 0))
    return Decimal(str(sph)), cyl_v, (int(axis) if cyl_v else None)


def to_plus_cylinder(sph, cyl, axis) -> tuple[Decimal, Decimal, int | None]:
    """The same prescription with a plus (or no) cylinder."""
    if Decimal(str(cyl or 0)) < 0:
        return transpose(sph, cyl, axis)
    cyl_v = Decimal(str(cyl or 0))
    return Decimal(str(sph)), cyl_v, (int(axis) if cyl_v else None)


def spherical_equivalent(sph, cyl) -> Decimal:
    return Decimal(str(sph)) + Decimal(str(cyl or 0)) / 2


def format_eye(rx: EyeRx) -> str:
    """One eye as written on a prescription: ``-2,25 / -0,75 × 90°``, ``-2,00 sph``, add and prism after."""
    if rx.cyl:
        text = f"{format_power(rx.sph)} / {format_power(rx.cyl)} × {format_axis(rx.axis)}"
    else:
        text = f"{format_power(rx.sph)} sph"
    if rx.add is not None:
        text += f" Add {format_power(rx.add)}"
    if rx.prism is not None:
        text += f" Prism {format_mm(rx.prism, 2)} {PRISM_BASE_LABELS[rx.prism_base]}"
    return text
