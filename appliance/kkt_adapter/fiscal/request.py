"""Validation of ``POST /v1/kkt/receipt`` bodies into a ``FiscalReceipt`` (nothing is journaled on failure),
and of the optional ``{"cashier": ...}`` body of the shift and report requests.

A glasses job's advance (items with FFD 1214 = 1/2/3) and its later offset (payment method
``prepayment``, tag 1215, on a sale whose items are all 1214 = 4) name the job in ``job_ref`` (tag 1192);
whether this till holds that much advance is checked when the receipt is journaled (buffer/advances.py).

Money arrives as JSON numbers or decimal strings in roubles with at most two decimals and is converted
to integer kopecks through ``Decimal`` (never through float arithmetic).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kkt_adapter.config import Config
from kkt_adapter.kkt.types import VAT_CODES, Cashier, Correction, FiscalItem, FiscalReceipt, SettlementKind
from kkt_adapter.refusal import Refusal

MAX_NAME = 128  # tag 1030 length limit (FFD 1.2)
MAX_QUANTITY = Decimal("99999")  # quantity carried on 6 bytes with 6 decimals; no optics line comes close
MAX_CONTACT = 64  # tag 1008 length limit
MAX_MONEY = Decimal(10**10)  # roubles; far above any receipt cap, far below the 5-byte wire limit
KINDS = ("sale", "refund", "correction")
TOP_FIELDS = {
    "pos_id",
    "type",
    "items",
    "payments",
    "taxation_system",
    "buyer_contact",
    "original_receipt_id",
    "correction",
    "cashier",
    "job_ref",
}
ITEM_FIELDS = {
    "name",
    "price",
    "quantity",
    "amount",
    "vat",
    "payment_method",
    "payment_subject",
    "measure_unit",
}
#: ``payments[].method`` -> the FN's payment sum: cash (1031), electronic (1081) or the offset of an advance
#: taken earlier for the same glasses job (1215, "prepayment"; only on a sale naming ``job_ref``).
PAYMENT_METHODS = {
    "cash": "cash",
    "electronic": "electronic",
    "card": "electronic",
    "prepayment": "prepayment",
}
MAX_JOB_REF = 16  # tag 1192 (additional receipt attribute) length limit
FULL_SETTLEMENT = 4  # FFD 1214 of the items of a receipt that offsets an advance
SETTLEMENTS = {"sale": SettlementKind.SALE, "refund": SettlementKind.SALE_RETURN}
CORRECTION_FIELDS = {"type", "basis_date", "basis_number", "settlement"}
MAX_BASIS_NUMBER = 32  # tag 1179 length limit
#: Characters the KKT can print: cp1251 (its code page) without control characters (C0, DEL), the
#: no-break space and the soft hyphen (blank or invisible on the paper). The alphabet of every text field
#: that reaches the FN (names, e-mail contacts, correction order numbers).
PRINTABLE = frozenset(
    ch
    for ch in bytes(range(0x20, 0x100)).decode("cp1251", errors="replace")
    if ch not in "\ufffd\x7f\xa0\xad"
)
MAX_CASHIER_NAME = 64  # tag 1021 length limit
CASHIER_FIELDS = {"name", "inn"}
CASHIER_INN = re.compile(r"[0-9]{12}")  # tag 1203: a person's INN, 12 ASCII digits (fullmatch: no "\n")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9]{10,15}$")  # ASCII digits only: Python's \d also matches non-Latin digits


@dataclass
class FieldError:
    field: str
    reason: str


class InvalidReceipt(Refusal, ValueError):
    """One or more fields are invalid; ``errors`` lists every one of them (also in the answer)."""

    code = "invalid_receipt"

    def __init__(self, errors: list[FieldError]):
        super().__init__(
            "; ".join(f"{e.field}: {e.reason}" for e in errors),
            errors=[{"field": e.field, "reason": e.reason} for e in errors],
        )
        self.errors = errors


@dataclass(frozen=True)
class ValidatedReceipt:
    kind: str  # sale | refund | correction
    fiscal: FiscalReceipt
    original_receipt_id: str | None


def _money(value: Any, where: str, errors: list[FieldError], *, allow_zero: bool = False) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(FieldError(where, "must be a number of roubles (e.g. 1500.00)"))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors.append(FieldError(where, f"not a number: {value!r}"))
        return None
    if not amount.is_finite():
        errors.append(FieldError(where, "must be finite"))
        return None
    if abs(amount) > MAX_MONEY:  # checked first: quantize() itself fails on numbers this large
        errors.append(FieldError(where, "too large"))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(FieldError(where, "at most 2 decimals (kopecks)"))
        return None
    if amount < 0 or (amount == 0 and not allow_zero):
        errors.append(FieldError(where, "must be positive" if not allow_zero else "must not be negative"))
        return None
    return int(amount * 100)


def cashier(raw: Any, errors: list[FieldError], where: str = "cashier") -> Cashier | None:
    """The optional ``cashier`` object ``{"name", "inn"}``; None when absent (null) or invalid."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(FieldError(where, 'must be an object {"name": ..., "inn": ...}'))
        return None
    before = len(errors)
    _unknown(raw, CASHIER_FIELDS, f"{where}.", errors)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError(f"{where}.name", "required, a non-empty string"))
    elif len(name.strip()) > MAX_CASHIER_NAME:
        errors.append(
            FieldError(f"{where}.name", f"{len(name.strip())} characters, at most {MAX_CASHIER_NAME}")
        )
    elif (bad := _unprintable(name)) is not None:
        errors.append(FieldError(f"{where}.name", bad))
    inn = raw.get("inn")
    if inn is not None and not (isinstance(inn, str) and CASHIER_INN.fullmatch(inn)):
        errors.append(FieldError(f"{where}.inn", "the cashier's INN: 12 digits"))
    if len(errors) > before:
        return None
    return Cashier(name=name.strip(), inn=inn)


def _int_choice(value: Any, where: str, allowed: range | dict, errors: list[FieldError]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        errors.append(FieldError(where, f"must be one of {sorted(allowed)}"))
        return None
    return value


def _name(value: Any, where: str, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(where, "required, a non-empty string"))
        return None
    name = value.strip()
    if len(name) > MAX_NAME:
        errors.append(FieldError(where, f"{len(name)} characters, at most {MAX_NAME}"))
        return None
    bad = _unprintable(name)
    if bad is not None:
        errors.append(FieldError(where, bad))
        return None
    return name


def _unprintable(text: str) -> str | None:
    """Why ``text`` cannot go to the KKT as is, or None when every character is printable."""
    for ch in text:
        if ch in PRINTABLE:
            continue
        if ord(ch) < 32 or ord(ch) == 0x7F:
            return "control characters are not printable"
        return f"character {ch!r} cannot be printed by the KKT (cp1251)"
    return None


def printable_class(exclude: str = "") -> str:
    """``PRINTABLE`` minus ``exclude`` as a regex character class in ranges (``[...]``), the form the
    OpenAPI patterns use (tests/unit/test_openapi_receipt.py checks the spec against it)."""
    points = sorted(ord(ch) for ch in PRINTABLE if ch not in exclude)
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))

    def char(cp: int) -> str:
        if 0x21 <= cp <= 0x7E and chr(cp).isalnum():
            return chr(cp)
        return f"\\u{cp:04X}"

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges) + "]"


def _text(value: Any) -> str | None:
    """Untrusted JSON value as a lookup key: only strings qualify (lists and objects are unhashable)."""
    return value if isinstance(value, str) else None


def _unknown(obj: dict, allowed: set[str], where: str, errors: list[FieldError]) -> None:
    for key in sorted(set(obj) - allowed):
        errors.append(FieldError(f"{where}{key}", "unknown field"))


def _item(raw: Any, i: int, errors: list[FieldError]) -> FiscalItem | None:
    where = f"items[{i}]"
    if not isinstance(raw, dict):
        errors.append(FieldError(where, "must be an object"))
        return None
    before = len(errors)
    _unknown(raw, ITEM_FIELDS, f"{where}.", errors)
    name = _name(raw.get("name"), f"{where}.name", errors)
    price = _money(raw.get("price"), f"{where}.price", errors, allow_zero=True)
    quantity = None
    qraw = raw.get("quantity", 1)
    try:
        if isinstance(qraw, bool) or not isinstance(qraw, int | float | str):
            raise InvalidOperation
        quantity = Decimal(str(qraw))
        if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
            errors.append(FieldError(f"{where}.quantity", f"must be > 0 and <= {MAX_QUANTITY}"))
            quantity = None
        elif quantity != quantity.quantize(Decimal("0.000001")):
            errors.append(FieldError(f"{where}.quantity", "at most 6 decimals"))
            quantity = None
    except InvalidOperation:
        errors.append(FieldError(f"{where}.quantity", f"not a number: {qraw!r}"))
    vat = None
    if "vat" not in raw:
        errors.append(FieldError(f"{where}.vat", "required: FFD tag 1199 code from product data"))
    else:
        vat = _int_choice(raw["vat"], f"{where}.vat", VAT_CODES, errors)
    method = _int_choice(raw.get("payment_method", 4), f"{where}.payment_method", range(1, 8), errors)
    subject = _int_choice(raw.get("payment_subject", 1), f"{where}.payment_subject", range(1, 34), errors)
    unit = _int_choice(raw.get("measure_unit", 0), f"{where}.measure_unit", range(0, 256), errors)
    amount = None
    if price is not None and quantity is not None:
        full = int((Decimal(price) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if "amount" in raw:
            amount = _money(raw["amount"], f"{where}.amount", errors)
            if amount is not None and amount > full:
                errors.append(FieldError(f"{where}.amount", "exceeds price x quantity"))
            elif amount is not None and amount != full:
                # A discounted line: tag 1079 is the unit price *after* discounts, and the KKT checks
                # that price x quantity matches the line total to the kopeck.
                price = int((Decimal(amount) / quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                if abs(Decimal(price) * quantity - amount) > 1:
                    errors.append(
                        FieldError(f"{where}.amount", "discounted total is not a whole unit price x quantity")
                    )
        else:
            amount = full
            if amount <= 0:
                errors.append(FieldError(where, "line total must be positive"))
    if len(errors) > before:
        return None
    return FiscalItem(
        name=name,
        price=price,
        quantity=quantity,
        amount=amount,
        vat=vat,
        payment_method=method,
        payment_subject=subject,
        measure_unit=unit,
    )


def _correction(raw: Any, errors: list[FieldError]) -> tuple[Correction | None, SettlementKind]:
    if not isinstance(raw, dict):
        errors.append(FieldError("correction", "required for type correction: {type, basis_date, ...}"))
        return None, SettlementKind.SALE
    _unknown(raw, CORRECTION_FIELDS, "correction.", errors)
    ctype = _int_choice(raw.get("type"), "correction.type", range(0, 2), errors)
    basis = None
    try:
        basis = date.fromisoformat(str(raw.get("basis_date")))
    except ValueError:
        errors.append(FieldError("correction.basis_date", "required, YYYY-MM-DD"))
    number = raw.get("basis_number", "")
    if not isinstance(number, str) or len(number) > MAX_BASIS_NUMBER:
        errors.append(FieldError("correction.basis_number", "a string of at most 32 characters"))
        number = ""
    elif (bad := _unprintable(number)) is not None:
        errors.append(FieldError("correction.basis_number", bad))
        number = ""
    if ctype == 1 and not number:
        errors.append(
            FieldError("correction.basis_number", "required when the correction is by order (type 1)")
        )
    settlement = SETTLEMENTS.get(_text(raw.get("settlement", "sale")))
    if settlement is None:
        errors.append(FieldError("correction.settlement", "must be sale or refund"))
        settlement = SettlementKind.SALE
    if ctype is None or basis is None:
        return None, settlement
    return Correction(correction_type=ctype, basis_date=basis, basis_number=number), settlement


def _job_ref(raw: Any, errors: list[FieldError]) -> str | None:
    """The optional ``job_ref`` (tag 1192): the glasses job an advance or its offset belongs to."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        errors.append(FieldError("job_ref", "a non-empty string: the glasses job's reference"))
        return None
    ref = raw.strip()
    if len(ref) > MAX_JOB_REF:
        errors.append(FieldError("job_ref", f"{len(ref)} characters, at most {MAX_JOB_REF} (tag 1192)"))
        return None
    if (bad := _unprintable(ref)) is not None:
        errors.append(FieldError("job_ref", bad))
        return None
    return ref


def _offset_rules(kind: str | None, job_ref: str | None, raw_items: Any, errors: list[FieldError]) -> None:
    """A receipt paid (partly) by the offset of an advance (tag 1215): a sale of the finished job, naming
    it, every item a full settlement (1214 = 4). The amount itself is checked against the total after."""
    if kind != "sale":
        errors.append(
            FieldError("payments", "a prepayment offset (tag 1215) is only allowed on a receipt of type sale")
        )
    if job_ref is None and "job_ref" not in {e.field for e in errors}:
        errors.append(
            FieldError(
                "job_ref", "required with a prepayment offset: the glasses job the advance was taken for"
            )
        )
    for i, raw in enumerate(raw_items if isinstance(raw_items, list) else []):
        method = raw.get("payment_method", FULL_SETTLEMENT) if isinstance(raw, dict) else FULL_SETTLEMENT
        valid = isinstance(method, int) and not isinstance(method, bool) and 1 <= method <= 7
        if valid and method != FULL_SETTLEMENT:  # an invalid value is reported by the item's own check
            errors.append(
                FieldError(
                    f"items[{i}].payment_method",
                    "must be 4 (full settlement) on a receipt paid with a prepayment offset",
                )
            )


def validate_for(body: Any, cfg: Config) -> ValidatedReceipt:
    """``validate`` with this till's id and its ``[receipt]`` limits."""
    receipt = cfg.receipt
    return validate(
        body,
        pos_id=cfg.pos_id,
        taxation_system=receipt.taxation_system,
        max_items=receipt.max_items,
        max_total=receipt.max_total,
    )


def validate(
    body: Any, *, pos_id: str, taxation_system: int, max_items: int, max_total: int
) -> ValidatedReceipt:
    """Return the validated receipt or raise ``InvalidReceipt`` listing every problem found."""
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise InvalidReceipt([FieldError("$", "the body must be a JSON object")])
    _unknown(body, TOP_FIELDS, "", errors)
    if body.get("pos_id") != pos_id:
        errors.append(FieldError("pos_id", f"must be this till's id {pos_id!r}"))
    kind = _text(body.get("type"))
    if kind not in KINDS:
        errors.append(FieldError("type", f"must be one of {list(KINDS)}"))
    raw_items = body.get("items")
    items: list[FiscalItem] = []
    if not isinstance(raw_items, list) or not raw_items:
        errors.append(FieldError("items", "at least one item is required"))
    elif len(raw_items) > max_items:
        errors.append(FieldError("items", f"{len(raw_items)} items, at most {max_items}"))
    else:
        items = [it for i, raw in enumerate(raw_items) if (it := _item(raw, i, errors))]
    paid = {"cash": 0, "electronic": 0, "prepayment": 0}
    raw_payments = body.get("payments")
    if not isinstance(raw_payments, list) or not raw_payments:
        errors.append(FieldError("payments", "at least one payment is required"))
    else:
        for i, pay in enumerate(raw_payments):
            if not isinstance(pay, dict):
                errors.append(FieldError(f"payments[{i}]", "must be an object"))
                continue
            _unknown(pay, {"method", "amount"}, f"payments[{i}].", errors)
            method = PAYMENT_METHODS.get(_text(pay.get("method")))
            if method is None:
                errors.append(
                    FieldError(f"payments[{i}].method", f"must be one of {sorted(PAYMENT_METHODS)}")
                )
            amount = _money(pay.get("amount"), f"payments[{i}].amount", errors)
            if method is not None and amount:
                paid[method] += amount
    cash, electronic, prepayment = paid["cash"], paid["electronic"], paid["prepayment"]
    job_ref = _job_ref(body.get("job_ref"), errors)
    taxation = _int_choice(
        body.get("taxation_system", taxation_system), "taxation_system", range(1, 64), errors
    )
    contact = body.get("buyer_contact")
    if contact is not None and (
        not isinstance(contact, str)
        or len(contact) > MAX_CONTACT
        or not (EMAIL.match(contact) or PHONE.match(contact))
        or _unprintable(contact) is not None
    ):
        errors.append(FieldError("buyer_contact", "a phone number (+79991234567) or an e-mail address"))
    who = cashier(body.get("cashier"), errors)
    original = body.get("original_receipt_id")
    if original is not None:
        try:
            original = str(uuid.UUID(str(original)))
        except ValueError:
            errors.append(FieldError("original_receipt_id", "must be a receipt id (UUID)"))
    if kind == "refund" and original is None:
        # Odoo links every return to its sale (accounting, stock); an unreferenced return would be refused
        # there and end in the DLQ, so it is refused here, before anything is journaled or printed.
        errors.append(
            FieldError("original_receipt_id", "required for a refund: the id of the sale it returns")
        )
    correction = None
    settlement = SETTLEMENTS.get(kind, SettlementKind.SALE)
    if kind == "correction":
        correction, settlement = _correction(body.get("correction"), errors)
    elif "correction" in body:
        errors.append(FieldError("correction", "only allowed on type correction"))
    total = sum(item.amount for item in items)
    if prepayment:
        _offset_rules(kind, job_ref, raw_items, errors)
    if items and len(items) == len(raw_items) and not errors:
        if total > max_total:
            errors.append(
                FieldError(
                    "items", f"receipt total {total / 100:.2f} exceeds the limit {max_total / 100:.2f}"
                )
            )
        if prepayment > total:
            errors.append(
                FieldError(
                    "payments",
                    f"prepayment offset {prepayment / 100:.2f} exceeds the receipt total {total / 100:.2f}",
                )
            )
        elif cash + electronic + prepayment != total:
            errors.append(
                FieldError(
                    "payments",
                    f"payments {(cash + electronic + prepayment) / 100:.2f} do not match the total "
                    f"{total / 100:.2f}",
                )
            )
    if errors:
        raise InvalidReceipt(errors)
    return ValidatedReceipt(
        kind=kind,
        fiscal=FiscalReceipt(
            kind=settlement,
            items=tuple(items),
            cash=cash,
            electronic=electronic,
            prepayment=prepayment,
            taxation_system=taxation,
            buyer_contact=contact,
            correction=correction,
            cashier=who,
            job_ref=job_ref,
        ),
        original_receipt_id=original,
    )


class InvalidShiftRequest(InvalidReceipt):
    """The body of a shift open / close or X report request is invalid; ``errors`` lists every field."""

    code = "invalid_shift_request"


SHIFT_FIELDS = {"cashier"}


def validate_shift(body: Any) -> Cashier | None:
    """The optional body ``{"cashier": {...}}`` of a shift open / close or X report (``None``: no body).

    Returns the cashier (tags 1021 / 1203) or None; ``InvalidShiftRequest`` listing every field at fault.
    """
    if body is None:
        return None
    if not isinstance(body, dict):
        raise InvalidShiftRequest([FieldError("$", "the body must be a JSON object")])
    errors: list[FieldError] = []
    _unknown(body, SHIFT_FIELDS, "", errors)
    who = cashier(body.get("cashier"), errors)
    if errors:
        raise InvalidShiftRequest(errors)
    return who
