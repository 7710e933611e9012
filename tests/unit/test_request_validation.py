"""Receipt request validation: conversions to kopecks, discounts, and 'only InvalidReceipt ever escapes'."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from kkt_adapter.fiscal import request as rq
from kkt_adapter.kkt.types import Cashier, SettlementKind
from tests.conftest import POS_ID, sale_body
from tests.integration.test_receipt_fuzz import json_values, mutated_receipts

LIMITS = {"pos_id": POS_ID, "taxation_system": 1, "max_items": 100, "max_total": 1_000_000_000}


def test_valid_sale_converts_roubles_to_kopecks_exactly():
    v = rq.validate(sale_body(), **LIMITS)
    assert v.kind == "sale"
    assert v.fiscal.kind is SettlementKind.SALE
    assert [(i.price, i.quantity, i.amount, i.vat) for i in v.fiscal.items] == [
        (850000, Decimal(1), 850000, 6),
        (45000, Decimal(2), 90000, 11),
    ]
    assert (v.fiscal.cash, v.fiscal.electronic, v.fiscal.total) == (0, 940000, 940000)


def test_float_rouble_amounts_do_not_drift():
    body = sale_body(
        items=[{"name": "Салфетка", "price": 0.1, "quantity": 3, "vat": 11}],
        payments=[{"method": "cash", "amount": 0.3}],
    )
    assert rq.validate(body, **LIMITS).fiscal.total == 30


def test_discounted_line_carries_the_unit_price_after_discount():
    body = sale_body(
        items=[{"name": "Линза", "price": "3200.00", "quantity": 2, "amount": "5760.00", "vat": 6}],
        payments=[{"method": "card", "amount": "5760.00"}],
    )
    item = rq.validate(body, **LIMITS).fiscal.items[0]
    assert (item.price, item.amount) == (288000, 576000)


def test_discount_that_is_not_a_whole_unit_price_is_refused():
    body = sale_body(
        items=[{"name": "Линза", "price": "10.00", "quantity": 7, "amount": "20.00", "vat": 6}],
        payments=[{"method": "card", "amount": "20.00"}],
    )
    with pytest.raises(rq.InvalidReceipt, match=r"items\[0\]\.amount"):
        rq.validate(body, **LIMITS)


def test_correction_needs_a_basis_and_carries_its_settlement():
    body = sale_body(
        type="correction", correction={"type": 1, "basis_date": "2026-11-20", "basis_number": "17"}
    )
    v = rq.validate(body, **LIMITS)
    assert v.fiscal.correction.basis_number == "17"
    with pytest.raises(rq.InvalidReceipt, match="basis_number"):
        rq.validate(
            sale_body(type="correction", correction={"type": 1, "basis_date": "2026-11-20"}), **LIMITS
        )


def test_every_problem_is_listed_at_once():
    body = sale_body(type="gift", items=[{"name": "", "price": -1, "vat": 99}], payments=[])
    with pytest.raises(rq.InvalidReceipt) as err:
        rq.validate(body, **LIMITS)
    fields = {e.field for e in err.value.errors}
    assert {"type", "items[0].name", "items[0].price", "items[0].vat", "payments"} <= fields


@settings(max_examples=1000, deadline=None)
@given(mutated_receipts())
def test_validation_raises_nothing_but_invalid_receipt(body):
    try:
        rq.validate(body, **LIMITS)
    except rq.InvalidReceipt as exc:
        assert exc.errors


@settings(max_examples=1000, deadline=None)
@given(json_values)
def test_validation_of_any_json_raises_nothing_but_invalid_receipt(value):
    try:
        rq.validate(value, **LIMITS)
    except rq.InvalidReceipt as exc:
        assert exc.errors


def test_the_cashier_is_validated_strictly_and_carried_to_the_fiscal_receipt():
    v = rq.validate(sale_body(cashier={"name": "  Кассир Иванова А.  ", "inn": "500100732259"}), **LIMITS)
    assert v.fiscal.cashier == Cashier("Кассир Иванова А.", "500100732259")  # surrounding spaces trimmed
    assert rq.validate(sale_body(cashier={"name": "Иванова"}), **LIMITS).fiscal.cashier == Cashier("Иванова")
    assert rq.validate(sale_body(cashier=None), **LIMITS).fiscal.cashier is None
    assert rq.validate(sale_body(), **LIMITS).fiscal.cashier is None
    bad = {
        "cashier": "Иванова",
        "cashier.name": {"name": " "},
        "cashier.inn": {"name": "Иванова", "inn": "500100732259\n"},
        "cashier.role": {"name": "Иванова", "role": "старший"},
    }
    for field, cashier in bad.items():
        with pytest.raises(rq.InvalidReceipt) as err:
            rq.validate(sale_body(cashier=cashier), **LIMITS)
        assert [e.field for e in err.value.errors] == [field], cashier


@pytest.mark.parametrize("kind", ["refund", "correction"])
def test_refunds_and_corrections_carry_the_cashier_too(kind):
    extra = (
        {"original_receipt_id": "4c12f69f-1551-4818-b1d9-63b572f3f833"}
        if kind == "refund"
        else {"correction": {"type": 0, "basis_date": "2026-11-20"}}
    )
    v = rq.validate(sale_body(type=kind, cashier={"name": "Петров", "inn": None}, **extra), **LIMITS)
    assert v.fiscal.cashier == Cashier("Петров")


def test_the_shift_body_is_optional_and_holds_only_the_cashier():
    assert rq.validate_shift(None) is None
    assert rq.validate_shift({}) is None
    assert rq.validate_shift({"cashier": None}) is None
    assert rq.validate_shift({"cashier": {"name": "Иванова", "inn": "500100732259"}}) == Cashier(
        "Иванова", "500100732259"
    )
    for body, fields in (
        ([], ["$"]),
        ({"cashier": {"name": "x" * 65}, "note": 1}, ["note", "cashier.name"]),
        ({"cashier": {"name": "Иванова", "inn": 500100732259}}, ["cashier.inn"]),
    ):
        with pytest.raises(rq.InvalidShiftRequest) as err:
            rq.validate_shift(body)
        assert err.value.code == "invalid_shift_request"
        assert [e.field for e in err.value.errors] == fields
