"""connector_b import engine: cell values (numbers, money, text, quantities), EAN-13 and retail prices.

Loaded by file path without Odoo (tests/kit/connector_engine.py). Property tests: every amount written the
ways suppliers write it (NBSP/narrow NBSP/dot/comma thousands, decimal comma or point, currency sign)
reads back to itself; thousands groups are checked (``12,5`` with a decimal point is refused, not 125).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.kit.connector_engine import engine
from tests.kit.supplier_samples import ean13

D = Decimal
CellError = engine.CellError
values = engine.values
apply_markup, round_to_ending = engine.pricing.apply_markup, engine.pricing.round_to_ending
ean13_problem = engine.validate.ean13_problem


def group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=0, max_value=D("99999999.99"), places=2),
    thousands=st.sampled_from(["", "\u00a0", "\u202f", " ", "."]),
    currency=st.sampled_from(["", " ₽", " руб.", "р.", "₽ "]),
    negative=st.booleans(),
)
def test_an_amount_written_as_suppliers_write_it_reads_back(amount, thousands, currency, negative):
    whole, _, cents = f"{amount:.2f}".partition(".")
    text = ("\u2212" if negative else "") + group(whole, thousands) + "," + cents
    text = currency + text if currency == "₽ " else text + currency
    expected = -amount if negative else amount
    assert values.parse_money(text) == expected
    assert values.parse_decimal(text) == expected


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=D("9999999.99"), places=2))
def test_decimal_point_with_comma_thousands_reads_back(amount):
    whole, _, cents = f"{amount:.2f}".partition(".")
    assert values.parse_decimal(f"{group(whole, ',')}.{cents}") == amount
    assert values.parse_decimal(f"{group(whole, ',')}.{cents}", decimal_comma=False) == amount


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=16))
def test_any_text_is_a_number_or_a_cell_error(text):
    try:
        result = values.parse_decimal(text)
    except CellError as err:
        assert "не число" in err.message
        return
    assert result is None or result.is_finite()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1\u00a0234,50", D("1234.50")),
        ("1\u202f234,5", D("1234.5")),
        ("1 234 567,89", D("1234567.89")),
        ("1.234,50", D("1234.50")),
        ("1,234.50", D("1234.50")),
        ("1.234.567", D("1234567")),
        ("1234.5", D("1234.5")),
        ("12,", D("12.0")),
        (",5", D("0.5")),
        ("  990  ", D("990")),
        ("+1,25", D("1.25")),
        ("\u22122,25", D("-2.25")),
        ("\u2013 0,50", D("-0.50")),
        ("1 200 руб.", D("1200")),
        ("₽1200", D("1200")),
        ("", None),
        ("\u00a0", None),
    ],
)
def test_numbers_as_text(text, expected):
    assert values.parse_decimal(text) == expected


@pytest.mark.parametrize(
    "text", ["12 5", "1,23,4", "4,350,00", "1.2.3,4", "по запросу", "12-5", "1e5", "٣", "--1", "1,2,3.4,5"]
)
def test_typos_are_refused_not_guessed(text):
    with pytest.raises(CellError, match="не число"):
        values.parse_decimal(text)


def test_a_single_comma_is_decimal_only_with_the_decimal_comma_transform():
    assert values.parse_decimal("12,5") == D("12.5")
    with pytest.raises(CellError):
        values.parse_decimal("12,5", decimal_comma=False)  # a comma can only separate thousands then
    assert values.parse_decimal("12,500", decimal_comma=False) == D("12500")


def test_typed_cells_from_xlsx():
    assert values.parse_decimal(1250) == D(1250)
    assert values.parse_decimal(1299.9999999999998) == D("1300.0")  # Excel's binary noise dropped
    assert values.parse_decimal(0.1 + 0.2) == D("0.3")
    assert values.parse_money(3150.5) == D("3150.50")
    assert values.parse_decimal(D("1.5")) == D("1.5")
    for bad, text in [(True, "логическое"), (float("nan"), "конечное"), (datetime(2026, 12, 1), "дата"),
                      (date(2026, 12, 1), "дата"), (D("Infinity"), "конечное")]:  # fmt: skip
        with pytest.raises(CellError, match=text):
            values.parse_decimal(bad)


def test_money_rounds_half_up_to_kopecks_and_converts_by_rate():
    assert values.parse_money("10,005") == D("10.01")
    assert values.parse_money("10,004") == D("10.00")
    assert values.parse_money("12,50", rate=D("98.7654")) == D("1234.57")
    assert values.parse_money(None) is None
    with pytest.raises(CellError, match="слишком большая"):
        values.parse_money("1" + "0" * 15)


def test_quantities():
    assert [values.parse_quantity(v) for v in (None, "", "-", "—", "нет", "0", 3, 4.0, "12", "1 200")] == [
        0, 0, 0, 0, 0, 0, 3, 4, 12, 1200,
    ]  # fmt: skip
    for bad, text in [("-2", "отрицательным"), (-1, "отрицательным"), ("2,5", "целым"), ("5 шт", "не число")]:
        with pytest.raises(CellError, match=text):
            values.parse_quantity(bad)


def test_clean_text():
    assert values.clean_text("  Оправа\u00a0металл \t  круглая ") == "Оправа металл круглая"
    assert values.clean_text(4.60123456789e12) == "4601234567890"
    assert values.clean_text(4601234567890) == "4601234567890"
    assert values.clean_text(1.5) == "1.5"
    assert values.clean_text(datetime(2026, 12, 1)) == "2026-12-01"
    assert values.clean_text("\u00a0 ") is None
    assert values.clean_text(None) is None


def test_format_number_is_russian():
    assert values.format_number(D("1234.5")) == "1\u00a0234,50"
    assert values.format_number(D("-150")) == "\u2212150,00"


# -- EAN-13 ------------------------------------------------------------------------------------------------


@given(first12=st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_ean13_check_digit_agrees_with_an_independent_implementation(first12):
    code = ean13(first12)
    assert engine.ean13_check_digit(first12) == int(code[12])
    assert ean13_problem(code) is None
    wrong = code[:12] + str((int(code[12]) + 1) % 10)
    assert "контрольная цифра" in ean13_problem(wrong)


def test_ean13_known_codes_and_shapes():
    assert ean13_problem("4006381333931") is None  # printed EAN-13s
    assert ean13_problem("5901234123457") is None
    for bad in ("400638133393", "40063813339311", "40063813339A1", "４００６３８１３３３９３１"):
        assert "13 цифр" in ean13_problem(bad)


# -- retail prices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "endings", "expected"),
    [
        ("1234.56", ["90"], "1290.00"),
        ("1290.00", ["90"], "1290.00"),
        ("1290.01", ["90"], "1390.00"),
        ("1234.56", ["99"], "1299.00"),
        ("1234.56", ["90", "99"], "1290.00"),
        ("1295.00", ["90", "99"], "1299.00"),
        ("1234.56", ["9"], "1239.00"),
        ("1234.56", ["990"], "1990.00"),
        ("95.00", ["990"], "990.00"),
        ("1234.56", [], "1234.56"),
        ("1234.56", ["00"], "1300.00"),
    ],
)
def test_round_to_ending(price, endings, expected):
    assert round_to_ending(D(price), endings) == D(expected)


@given(
    price=st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2),
    endings=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=3), min_size=1, max_size=3),
)
def test_rounding_goes_up_to_the_nearest_ending(price, endings):
    result = round_to_ending(price, endings)
    assert result >= price
    assert any(str(int(result)).zfill(len(e)).endswith(e) for e in endings)
    # Nearest: no smaller whole price at or above ``price`` has one of the endings.
    longest = 10 ** max(len(e) for e in endings)
    assert result - price < longest


def test_markup_and_retail_rule():
    assert apply_markup(D("1000"), D("150")) == D("2500.00")
    assert apply_markup(D("333.33"), D("33.3")) == D("444.33")
    rule = engine.RetailRule.from_dict(
        {"default_markup_percent": 100, "markup_percent": {" Оправы ": 150}, "endings": ["90", "99"]}
    )
    assert rule.retail_price(D("1000"), "оправы") == D("2590.00")
    assert rule.retail_price(D("1000"), "Аксессуары") == D("2090.00")
    assert rule.retail_price(D("1000")) == D("2090.00")
    assert rule.with_endings(["9"]).retail_price(D("1000"), "ОПРАВЫ") == D("2509.00")
    assert engine.RetailRule.from_dict(rule.to_dict()) == rule
    with pytest.raises(ValueError):
        apply_markup(D("0"), D("10"))
    with pytest.raises(ValueError):
        round_to_ending(D("10"), ["9a"])
    bad_rules = [
        {"markup_percent": {}},
        {"default_markup_percent": "много"},
        {"default_markup_percent": -101},
        {"default_markup_percent": 10, "endings": ["x"]},
        {"default_markup_percent": 10, "extra": 1},
    ]
    for bad in bad_rules:
        with pytest.raises(engine.ProfileError):
            engine.RetailRule.from_dict(bad)
