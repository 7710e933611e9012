"""Cell values as suppliers write them, read into clean text, ``Decimal`` numbers and money.

Handles what breaks other importers: non-breaking and narrow spaces (U+00A0, U+202F) as thousands
separators, a decimal comma in CSV and in xlsx text cells alike, a decimal point, dots or commas as
thousands separators (checked: groups of three digits, so ``12,5`` is never read as 125), a typographic
minus, a currency sign after the amount, and floats from xlsx with binary noise (``1299.9999999999998``).
A value that cannot be read raises ``CellError`` with a Russian text; the caller names the column.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import CellError

#: Space characters found in numbers and names: NBSP, narrow NBSP, thin and figure spaces, plain space.
SPACES = "\u00a0\u202f\u2009\u2007 "
#: The common case, read without the separator analysis: digits with at most one separator and a sign.
_SIMPLE = re.compile(r"^-?[0-9]+(?:[.,][0-9]+)?$")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
#: A currency mark before or after an amount: ₽, руб., р., RUB, $, €, EUR, USD (case-insensitive).
_CURRENCY = re.compile(r"^(?:₽|\$|€)|(?:₽|руб\.?|р\.|rub|eur|usd|\$|€)$", re.IGNORECASE)
_DIGITS = re.compile(r"^[0-9]+$")  # ASCII digits only: \d admits every script's digits
_GROUP_SPLIT = re.compile(f"[{SPACES}]")
#: Longest text a message echoes back: a typo shows, a pasted paragraph does not.
_ECHO = 24
#: Money beyond this many digits before the point is a misread column, not a price.
_MAX_MONEY_DIGITS = 12
CENT = Decimal("0.01")


def shown(value) -> str:
    """``value`` as a message quotes it, cut to a readable length."""
    text = str(value).strip()
    return text if len(text) <= _ECHO else text[:_ECHO] + "…"


def clean_text(value) -> str | None:
    """Text of a cell with its spaces normalised (NBSP → space, runs collapsed, ends stripped); None if empty.

    Numbers from xlsx come back as written: an integral float (``4.60123456789e12``) without ``.0``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        value = int(value) if math.isfinite(value) and value.is_integer() else repr(value)
    elif isinstance(value, datetime):
        value = value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    elif isinstance(value, date):
        value = value.isoformat()
    # str.split() without arguments splits on every Unicode space (NBSP and U+202F included), in C.
    return " ".join(str(value).split()) or None


def _split_separators(body: str, decimal_comma: bool) -> tuple[str, str | None, str | None]:
    """(body, decimal separator, thousands separator) of a number's text without spaces or sign."""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:  # both: the last one is the decimal separator (1.234,50 and 1,234.50)
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        return body, decimal, "." if decimal == "," else ","
    if commas:
        if decimal_comma and commas == 1:
            return body, ",", None
        return body, None, ","
    if dots > 1:  # 1.234.567: dots can only be thousands separators
        return body, None, "."
    return body, "." if dots else None, None


def parse_decimal(value, *, decimal_comma: bool = True) -> Decimal | None:
    """A number from a cell as ``Decimal``; None for an empty cell; ``CellError`` when it is not a number.

    ``decimal_comma`` (the profile's transform, on by default): a single comma is the decimal separator.
    Off, a comma can only separate thousands. A single dot is always a decimal point.
    """
    if value is None:
        return None
    if isinstance(value, bool):  # bool is an int: True must not read as 1
        raise CellError("логическое значение вместо числа")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError("ожидается конечное число")
        # repr reads the float as written; rounding to 9 decimals drops Excel's binary noise first.
        return Decimal(repr(round(value, 9)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CellError("ожидается конечное число")
        return value
    if isinstance(value, datetime | date | time):
        raise CellError("в ячейке дата, а не число (Excel принял значение за дату)")
    return _parse_text(str(value), decimal_comma)


def _parse_text(raw: str, decimal_comma: bool) -> Decimal | None:
    if _SIMPLE.match(raw) and (decimal_comma or "," not in raw):
        return Decimal(raw.replace(",", "."))
    text = raw.strip(SPACES + "\t\r\n").translate(_MINUS)
    text = _CURRENCY.sub("", text).strip(SPACES)
    text = _CURRENCY.sub("", text).strip(SPACES)  # both ends: "₽ 1 200" and "1 200 руб."
    if not text:
        return None
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip(SPACES)
    body, decimal, thousands = _split_separators(text, decimal_comma)
    integer, _, fraction = body.partition(decimal) if decimal else (body, "", "")
    groups = _GROUP_SPLIT.split(integer.replace(thousands, " ") if thousands else integer)
    if decimal and not fraction:
        fraction = "0"  # "12," or "12." — a trailing separator
    if not integer and decimal:
        groups = ["0"]  # ",5" / ".5"
    ok = all(_DIGITS.match(g) for g in groups) and (not fraction or _DIGITS.match(fraction))
    # Thousands groups: 1-3 digits first, then exactly three each ("12 5" and "1,23,4" are typos).
    if ok and len(groups) > 1:
        ok = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if not ok:
        raise CellError(f"«{shown(raw)}» — не число")
    return Decimal(f"{sign}{''.join(groups)}.{fraction or '0'}")


def parse_money(value, *, decimal_comma: bool = True, rate: Decimal | None = None) -> Decimal | None:
    """An amount in roubles, 2 decimals (half up), converted by ``rate`` when the list is in a currency."""
    amount = parse_decimal(value, decimal_comma=decimal_comma)
    if amount is None:
        return None
    if amount.adjusted() >= _MAX_MONEY_DIGITS:
        raise CellError(f"«{shown(value)}» — слишком большая сумма")
    if rate is not None:
        amount *= rate
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as err:  # pragma: no cover - bounded by the check above
        raise CellError(f"«{shown(value)}» — не сумма") from err


#: Texts a stock cell holds for "none": a dash or the word.
_NONE_TEXTS = {"-", "нет", "0"}


def parse_quantity(value, *, decimal_comma: bool = True) -> int:
    """A stock quantity: a whole number ≥ 0; an empty cell, a dash or «нет» is 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip(SPACES).translate(_MINUS).casefold() in _NONE_TEXTS:
        return 0
    number = parse_decimal(value, decimal_comma=decimal_comma)
    if number is None:
        return 0
    if number < 0:
        raise CellError(f"«{shown(value)}» — количество не может быть отрицательным")
    if number != number.to_integral_value() or number.adjusted() >= _MAX_MONEY_DIGITS:
        raise CellError(f"«{shown(value)}» — количество должно быть целым числом")
    return int(number)


def format_number(value: Decimal, decimals: int = 2) -> str:
    """``value`` as Russian messages show it: decimal comma, NBSP thousands (``1 234,50``)."""
    text = f"{value:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "\u2212")
