"""The OpenAPI receipt schema against the server's own validator, in both directions.

- Bodies the server accepts validate against ``ReceiptRequest``; bodies it refuses for a per-field reason
  do not (the cross-field rules the schema cannot express are listed in its description).
- Bodies generated from the schema by hypothesis-jsonschema (what schemathesis does) are accepted by the
  server once the documented cross-field rules are applied (pos_id, payments summing to the total, line
  totals above 0): every per-field rule of the server is in the schema.
- The schema's character classes are the server's ``PRINTABLE`` alphabet, not a copy that can drift.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema
from openapi_schema_validator import OAS30Validator

from kkt_adapter.fiscal import request as receipt_request

SPEC = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
POS_ID = "store-01-till-1"
#: The test lifts the configurable total cap ([receipt] max_total) out of the way: it is configuration.
NO_TOTAL_CAP = 10**14


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]


@pytest.fixture(scope="module")
def validator(schemas) -> OAS30Validator:
    return OAS30Validator({"$ref": "#/components/schemas/ReceiptRequest", "components": {"schemas": schemas}})


def server_accepts(body: Any) -> bool:
    try:
        receipt_request.validate(
            body, pos_id=POS_ID, taxation_system=1, max_items=100, max_total=NO_TOTAL_CAP
        )
    except receipt_request.InvalidReceipt:
        return False
    return True


def item(**overrides: Any) -> dict[str, Any]:
    return {"name": "Оправа Ray-Ban RB5154", "price": "8500.00", "quantity": 1, "vat": 6, **overrides}


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "pos_id": POS_ID,
        "type": "sale",
        "items": [item()],
        "payments": [{"method": "card", "amount": "8500.00"}],
        **overrides,
    }


CORRECTION = {"type": 1, "basis_date": "2026-11-30", "basis_number": "ИФНС-77/123", "settlement": "refund"}
ACCEPTED = {
    "minimal sale": body(),
    "integer money": body(items=[item(price=8500)], payments=[{"method": "cash", "amount": 8500}]),
    "every item field": body(
        items=[
            item(
                name="Линза «Acuvue» № 5 — 2 шт.",
                price="1500.50",
                quantity="2",
                amount="3000.00",
                payment_method=4,
                payment_subject=1,
                measure_unit=0,
                vat=1,
            )
        ],
        payments=[{"method": "cash", "amount": "1000.00"}, {"method": "electronic", "amount": "2000.00"}],
        taxation_system=2,
        buyer_contact="buyer@example.ru",
    ),
    "fractional quantity": body(
        items=[item(price="100.00", quantity="0.5")], payments=[{"method": "card", "amount": "50.00"}]
    ),
    "phone contact": body(buyer_contact="+79991234567"),
    "null contact": body(buyer_contact=None),
    "refund": body(type="refund", original_receipt_id="4c12f69f-1551-4818-b1d9-63b572f3f833"),
    "correction by order": body(type="correction", correction=CORRECTION),
    "correction on own initiative": body(
        type="correction", correction={"type": 0, "basis_date": "2026-11-30"}
    ),
    "kopecks": body(items=[item(price="0.01")], payments=[{"method": "card", "amount": "0.01"}]),
    "cashier with an INN": body(cashier={"name": "Кассир Иванова А.", "inn": "500100732259"}),
    "cashier without an INN": body(cashier={"name": "Иванова", "inn": None}),
    "cashier named in 64 characters": body(cashier={"name": "К" * 64}),
    "null cashier": body(cashier=None),
    "advance for a glasses job": body(items=[item(payment_method=2)], job_ref="З-2026-0042"),
    "advance naming no job": body(items=[item(payment_method=1)]),
    "offset of an advance with the balance in cash": body(
        job_ref="З-2026-0042",
        payments=[{"method": "prepayment", "amount": "3000.00"}, {"method": "cash", "amount": "5500.00"}],
    ),
    "job named in 16 characters": body(job_ref="J" * 16),
    "refund with its cashier": body(
        type="refund", original_receipt_id="4c12f69f-1551-4818-b1d9-63b572f3f833", cashier={"name": "Петров"}
    ),
}
REJECTED = {
    "unknown field": body(discount=5),
    "money with 3 decimals": body(items=[item(price="1.005")]),
    "negative money": body(items=[item(price="-1.00")]),
    "money as words": body(items=[item(price="ten")]),
    "money too large": body(items=[item(price="20000000000")]),
    "boolean money": body(payments=[{"method": "card", "amount": True}]),
    "zero payment": body(payments=[{"method": "card", "amount": "0"}]),
    "empty name": body(items=[item(name="")]),
    "blank name": body(items=[item(name="   ")]),
    "name of 129 characters": body(items=[item(name="x" * 129)]),
    "emoji in a name": body(items=[item(name="Оправа 😎")]),
    "control character in a name": body(items=[item(name="Оправа\tRB")]),
    "no VAT": body(items=[{"name": "Оправа", "price": "1.00"}]),
    "VAT code 13": body(items=[item(vat=13)]),
    "quantity 0": body(items=[item(quantity=0)]),
    "quantity with 7 decimals": body(items=[item(quantity="0.0000001")]),
    "quantity above 99999": body(items=[item(quantity=100000)]),
    "no items": body(items=[]),
    "101 items": body(items=[item()] * 101),
    "unknown payment method": body(payments=[{"method": "barter", "amount": "8500.00"}]),
    "unknown type": body(type="gift"),
    "refund without its sale": body(type="refund"),
    "refund naming no UUID": body(type="refund", original_receipt_id="sale-42"),
    "correction without correction": body(type="correction"),
    "correction on a sale": body(correction=CORRECTION),
    "order correction without its number": body(
        type="correction", correction={"type": 1, "basis_date": "2026-11-30"}
    ),
    "correction date not a date": body(type="correction", correction={"type": 0, "basis_date": "30.11.2026"}),
    "order number with an emoji": body(
        type="correction", correction={**CORRECTION, "basis_number": "№ 5 😎"}
    ),
    "contact neither phone nor e-mail": body(buyer_contact="call me"),
    "phone in Arabic-Indic digits": body(buyer_contact="+٧٩٩٩١٢٣٤٥٦٧"),
    "e-mail with an emoji": body(buyer_contact="😎@example.ru"),
    "pos_id with a slash": body(pos_id="till/1"),
    "taxation system 64": body(taxation_system=64),
    "cashier without a name": body(cashier={"inn": "500100732259"}),
    "cashier named in 65 characters": body(cashier={"name": "К" * 65}),
    "cashier named by an emoji": body(cashier={"name": "Иванова 😎"}),
    "cashier INN of 10 digits": body(cashier={"name": "Иванова", "inn": "7707083893"}),
    "cashier INN as a number": body(cashier={"name": "Иванова", "inn": 500100732259}),
    "cashier with an unknown field": body(cashier={"name": "Иванова", "role": "старший"}),
    "cashier as a string": body(cashier="Иванова"),
    "job named in 17 characters": body(job_ref="J" * 17),
    "empty job": body(job_ref=""),
    "job named by an emoji": body(job_ref="З-42 😎"),
    "job as a number": body(job_ref=42),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_the_server_accepts_the_schema_accepts(validator, name):
    assert server_accepts(ACCEPTED[name]), name
    errors = [e.message for e in validator.iter_errors(ACCEPTED[name])]
    assert errors == [], errors


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_what_the_server_refuses_field_by_field_the_schema_refuses(validator, name):
    candidate = copy.deepcopy(REJECTED[name])
    if candidate.get("pos_id") == "till/1":
        # The one rule checked against configuration: shown with a till whose id has no slash.
        assert not server_accepts(candidate)
    else:
        assert not server_accepts(candidate), name
    assert not validator.is_valid(candidate), name


def plain_json_schema(node: Any, schemas: dict[str, Any]) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema for hypothesis-jsonschema: refs inlined, ``nullable`` as a null
    alternative, annotations and ``discriminator`` (oneOf already decides) dropped."""
    if isinstance(node, list):
        return [plain_json_schema(n, schemas) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return plain_json_schema(schemas[node["$ref"].rsplit("/", 1)[1]], schemas)
    skip = {"discriminator", "example", "description", "nullable", "default"}
    out = {k: plain_json_schema(v, schemas) for k, v in node.items() if k not in skip}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def line_total(raw: dict[str, Any]) -> int:
    price = Decimal(str(raw["price"])) * 100
    quantity = Decimal(str(raw.get("quantity", 1)))
    return int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def with_cross_field_rules(generated: dict[str, Any]) -> dict[str, Any]:
    """Apply the rules the schema documents but cannot express: the till's pos_id, no discount lines
    (`amount` ties to price x quantity), line totals above 0, payments summing to the total, an advance
    offset (`prepayment`) only on a sale naming its job whose items are all full settlements."""
    candidate = copy.deepcopy(generated)
    candidate["pos_id"] = POS_ID
    if any(payment["method"] == "prepayment" for payment in candidate["payments"]):
        for key in ("correction", "original_receipt_id"):
            candidate.pop(key, None)
        candidate["type"] = "sale"
        candidate["job_ref"] = candidate.get("job_ref") or "J-1"
        for raw in candidate["items"]:
            raw["payment_method"] = 4
    for raw in candidate["items"]:
        raw.pop("amount", None)
    totals = [line_total(raw) for raw in candidate["items"]]
    assume(all(t > 0 for t in totals))
    total = sum(totals)
    payments = candidate["payments"]
    share, rest = divmod(total, len(payments))
    # Each payment is one Money value (at most 10^10 roubles) and above 0.
    assume(share > 0 and share + rest <= receipt_request.MAX_MONEY * 100)
    for i, payment in enumerate(payments):
        kopecks = share + (rest if i == 0 else 0)
        payment["amount"] = f"{kopecks // 100}.{kopecks % 100:02d}"
    return candidate


def test_bodies_generated_from_the_schema_are_accepted_by_the_server(schemas):
    strategy = from_schema(plain_json_schema(schemas["ReceiptRequest"], schemas))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy)
    def check(generated):
        candidate = with_cross_field_rules(generated)
        try:
            receipt_request.validate(
                candidate, pos_id=POS_ID, taxation_system=1, max_items=100, max_total=NO_TOTAL_CAP
            )
        except receipt_request.InvalidReceipt as exc:
            raise AssertionError(f"schema-valid body refused: {exc}\n{candidate!r}") from None

    check()


def test_the_schema_character_classes_are_the_servers_printable_alphabet(schemas):
    everything = receipt_request.printable_class()
    assert schemas["PrintableName"]["pattern"] == f"^{receipt_request.printable_class(' ')}{everything}*$"
    email = receipt_request.printable_class(" @")
    contact = schemas["BuyerContact"]["anyOf"][1]["pattern"]
    assert contact == rf"^{email}+@{email}+\.{email}+$"
    by_initiative, by_order = schemas["Correction"]["oneOf"]
    assert by_initiative["properties"]["basis_number"]["pattern"] == f"^{everything}*$"
    assert by_order["properties"]["basis_number"]["pattern"] == f"^{everything}+$"
    assert schemas["JobRef"]["pattern"] == schemas["PrintableName"]["pattern"]
    assert "😎" not in receipt_request.PRINTABLE and "Ё" in receipt_request.PRINTABLE
