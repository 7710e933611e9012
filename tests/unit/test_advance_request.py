"""Validation of glasses-job advances and their offsets: ``job_ref`` (tag 1192) and the payment method
``prepayment`` (tag 1215), each rule refused with its own field and reason (fiscal/request.py)."""

from __future__ import annotations

import pytest

from kkt_adapter.fiscal import request as rq
from tests.conftest import POS_ID, sale_body

LIMITS = {"pos_id": POS_ID, "taxation_system": 1, "max_items": 100, "max_total": 1_000_000_000}
JOB = "З-2026-0042"


def advance(**overrides) -> dict:
    """An advance of 3 000.00 for the job: one item with 1214 = 2 (partial prepayment)."""
    body = sale_body(
        job_ref=JOB,
        items=[{"name": "Очки на заказ", "price": "3000.00", "quantity": 1, "vat": 6, "payment_method": 2}],
        payments=[{"method": "card", "amount": "3000.00"}],
    )
    body.update(overrides)
    return body


def final(offset: str = "3000.00", cash: str = "5000.00", **overrides) -> dict:
    """The final receipt of the job: 8 000.00 of full settlement paid by the offset plus cash."""
    payments = [{"method": "prepayment", "amount": offset}]
    if cash:
        payments.append({"method": "cash", "amount": cash})
    body = sale_body(
        job_ref=JOB,
        items=[{"name": "Очки по рецепту", "price": "8000.00", "quantity": 1, "vat": 6, "payment_method": 4}],
        payments=payments,
    )
    body.update(overrides)
    return body


def errors_of(body: dict) -> dict[str, str]:
    with pytest.raises(rq.InvalidReceipt) as caught:
        rq.validate(body, **LIMITS)
    assert caught.value.code == "invalid_receipt"
    return {e.field: e.reason for e in caught.value.errors}


def test_an_advance_carries_its_job_and_payment_method():
    fiscal = rq.validate(advance(), **LIMITS).fiscal
    assert (fiscal.job_ref, fiscal.prepayment, fiscal.electronic) == (JOB, 0, 300000)
    assert [i.payment_method for i in fiscal.items] == [2]


@pytest.mark.parametrize("method", [1, 2, 3])
def test_an_advance_naming_no_job_is_accepted(method):
    body = advance(items=[{"name": "Аванс", "price": "3000.00", "vat": 6, "payment_method": method}])
    del body["job_ref"]
    assert rq.validate(body, **LIMITS).fiscal.job_ref is None


def test_the_offset_is_summed_apart_from_cash_and_card():
    body = final(
        offset="1000.00",
        cash="",
        payments=[
            {"method": "prepayment", "amount": "1000.00"},
            {"method": "prepayment", "amount": "2000.00"},
            {"method": "cash", "amount": "4000.00"},
            {"method": "card", "amount": "1000.00"},
        ],
    )
    fiscal = rq.validate(body, **LIMITS).fiscal
    assert (fiscal.prepayment, fiscal.cash, fiscal.electronic, fiscal.total) == (
        300000,
        400000,
        100000,
        800000,
    )
    assert fiscal.job_ref == JOB


def test_a_receipt_paid_wholly_by_the_offset_is_accepted():
    fiscal = rq.validate(final(offset="8000.00", cash=""), **LIMITS).fiscal
    assert (fiscal.prepayment, fiscal.cash, fiscal.electronic) == (800000, 0, 0)


def test_payments_with_the_offset_must_still_match_the_total():
    errors = errors_of(final(offset="3000.00", cash="4000.00"))
    assert errors == {"payments": "payments 7000.00 do not match the total 8000.00"}


def test_the_offset_only_on_a_sale_not_on_a_refund():
    body = final(type="refund", original_receipt_id="4c12f69f-1551-4818-b1d9-63b572f3f833")
    assert errors_of(body) == {
        "payments": "a prepayment offset (tag 1215) is only allowed on a receipt of type sale"
    }


def test_the_offset_only_on_a_sale_not_on_a_correction():
    body = final(type="correction", correction={"type": 0, "basis_date": "2026-12-01"})
    assert "only allowed on a receipt of type sale" in errors_of(body)["payments"]


def test_the_offset_needs_the_job():
    body = final()
    del body["job_ref"]
    assert errors_of(body) == {
        "job_ref": "required with a prepayment offset: the glasses job the advance was taken for"
    }


def test_every_item_of_a_receipt_with_an_offset_is_a_full_settlement():
    body = final()
    body["items"] = [
        {"name": "Очки по рецепту", "price": "6000.00", "vat": 6},  # 1214 defaults to 4
        {"name": "Доплата", "price": "2000.00", "vat": 6, "payment_method": 2},
    ]
    assert errors_of(body) == {
        "items[1].payment_method": "must be 4 (full settlement) on a receipt paid with a prepayment offset"
    }


def test_an_offset_above_the_total_is_refused_with_its_own_reason():
    errors = errors_of(final(offset="9000.00", cash=""))
    assert errors == {"payments": "prepayment offset 9000.00 exceeds the receipt total 8000.00"}


@pytest.mark.parametrize(
    ("job_ref", "reason"),
    [
        ("J" * 17, "17 characters, at most 16 (tag 1192)"),
        ("", "a non-empty string: the glasses job's reference"),
        ("   ", "a non-empty string: the glasses job's reference"),
        (42, "a non-empty string: the glasses job's reference"),
        ("З-42 😎", "character '😎' cannot be printed by the KKT (cp1251)"),
        ("З-42\n", None),  # trimmed: a trailing newline is whitespace
        ("З\t42", "control characters are not printable"),
    ],
)
def test_the_job_reference_is_1_to_16_printable_characters(job_ref, reason):
    body = advance(job_ref=job_ref)
    if reason is None:
        assert rq.validate(body, **LIMITS).fiscal.job_ref == "З-42"
    else:
        assert errors_of(body) == {"job_ref": reason}


def test_a_job_of_16_characters_is_kept_trimmed():
    assert rq.validate(advance(job_ref=" " + "Ж" * 16 + " "), **LIMITS).fiscal.job_ref == "Ж" * 16


def test_several_rules_are_reported_together():
    body = final(type="refund", original_receipt_id="4c12f69f-1551-4818-b1d9-63b572f3f833")
    del body["job_ref"]
    body["items"][0]["payment_method"] = 1
    assert set(errors_of(body)) == {"payments", "job_ref", "items[0].payment_method"}
