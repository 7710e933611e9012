"""How a FiscalReceipt becomes Shtrih-M commands: 8D opens, then FF0C document TLVs (1008, 1021/1203,
1173/1174, 1192), per item FF4D (2108) and FF46, and FF45 closes with the payments (slot 0 cash, 1 electronic,
13 the offset of an advance, tag 1215). Pure: no device, no I/O.
The cashier's tags are the same FF0C TLVs in a shift open / close report (``cashier_tlvs``).
"""

from __future__ import annotations

from typing import Any

from kkt_adapter.kkt.types import VAT_CODES, Cashier, FiscalItem, FiscalReceipt, SettlementKind
from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError

#: 8D receipt type for each settlement kind (FFD 1054 -> Shtrih document type).
RECEIPT_TYPE: dict[SettlementKind, int] = {
    SettlementKind.SALE: 0,
    SettlementKind.PURCHASE: 1,
    SettlementKind.SALE_RETURN: 2,
    SettlementKind.PURCHASE_RETURN: 3,
}

#: FF46 tax-rate byte for each FFD 1199 VAT code. This project sends the 1199 code itself (the emulator
#: understands it). Firmware expecting its own tax-group numbering or bitmask is adapted HERE, nowhere else.
WIRE_TAX_RATE: dict[int, int] = {code: code for code in VAT_CODES}

PAYMENT_CASH = cmd.SLOT_CASH  # FF45 payment slot of tag 1031
PAYMENT_ELECTRONIC = cmd.SLOT_ELECTRONIC  # FF45 payment slot of tag 1081
PAYMENT_PREPAYMENT = cmd.SLOT_PREPAYMENT  # FF45 payment slot of tag 1215 (offset of an advance)

TAG_BUYER_CONTACT = 1008
TAG_CASHIER_NAME = 1021
TAG_CASHIER_INN = 1203
TAG_ADDITIONAL_ATTRIBUTE = 1192  # "additional receipt attribute": the glasses job's reference (job_ref)
TAG_CORRECTION_TYPE = 1173
TAG_CORRECTION_BASIS = 1174
TAG_BASIS_DATE = 1178
TAG_BASIS_NUMBER = 1179
TAG_MEASURE_UNIT = 2108


def receipt_plan(receipt: FiscalReceipt, password: int) -> list[tuple[cmd.Command, dict[str, Any]]]:
    """Every command after 8D (open) with its values, encoded once as a dry run: ValueError before a
    byte goes out when any value cannot be encoded."""
    if not receipt.items:
        raise ValueError("a receipt needs at least one item")
    plan: list[tuple[cmd.Command, dict[str, Any]]] = []
    try:
        if receipt.correction is not None:
            c = receipt.correction
            plan.append(
                (cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_byte(TAG_CORRECTION_TYPE, c.correction_type)})
            )
            basis = [codec.tlv_unixtime(TAG_BASIS_DATE, c.basis_date)]
            basis.append(codec.tlv_string(TAG_BASIS_NUMBER, c.basis_number))
            plan.append((cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_stlv(TAG_CORRECTION_BASIS, basis)}))
        if receipt.buyer_contact:
            plan.append(
                (cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_string(TAG_BUYER_CONTACT, receipt.buyer_contact)})
            )
        plan += [(cmd.TLV_TO_DOCUMENT, {"tlv": tlv}) for tlv in cashier_tlvs(receipt.cashier)]
        if receipt.job_ref:
            plan.append(
                (cmd.TLV_TO_DOCUMENT, {"tlv": codec.tlv_string(TAG_ADDITIONAL_ATTRIBUTE, receipt.job_ref)})
            )
        for item in receipt.items:
            plan.append((cmd.TLV_TO_OPERATION, {"tlv": codec.tlv_byte(TAG_MEASURE_UNIT, item.measure_unit)}))
            plan.append((cmd.OPERATION_V2, item_values(receipt.kind, item)))
        payments = [0] * cmd.PAYMENT_SLOTS
        payments[PAYMENT_CASH] = receipt.cash
        payments[PAYMENT_ELECTRONIC] = receipt.electronic
        payments[PAYMENT_PREPAYMENT] = receipt.prepayment
        close = {"payments": payments, "taxation_system": receipt.taxation_system, "text": receipt.text}
        plan.append((cmd.CLOSE_RECEIPT_V2, close))
        for command, values in plan:  # dry-run encoding: raises before any byte goes out
            cmd.build_request(command, password, **values)
    except CodecError as exc:
        raise ValueError(f"receipt cannot be encoded: {exc}") from exc
    return plan


def cashier_tlvs(cashier: Cashier | None) -> list[bytes]:
    """FF0C TLVs of the cashier: 1021 (name, cp1251) and 1203 (INN, 12 characters) when known; CodecError
    when the name cannot be encoded (the validator admits only what the KKT prints)."""
    if cashier is None:
        return []
    tlvs = [codec.tlv_string(TAG_CASHIER_NAME, cashier.name)]
    if cashier.inn:
        tlvs.append(codec.tlv_string(TAG_CASHIER_INN, cashier.inn))
    return tlvs


def item_values(kind: SettlementKind, item: FiscalItem) -> dict[str, Any]:
    if item.vat not in WIRE_TAX_RATE:
        raise ValueError(f"unknown VAT code {item.vat} (FFD 1199)")
    if len(item.name) > 128:
        raise ValueError(f"item name longer than 128 characters: {item.name[:40]}...")
    return {
        "operation": int(kind),
        "quantity": item.quantity,
        "price": item.price,
        "amount": item.amount,
        "tax_amount": codec.MONEY_UNSPECIFIED,
        "tax_rate": WIRE_TAX_RATE[item.vat],
        "department": item.department,
        "payment_method": item.payment_method,
        "payment_subject": item.payment_subject,
        "name": item.name,
    }
