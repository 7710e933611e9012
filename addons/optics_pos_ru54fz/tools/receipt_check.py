"""The rules one receipt of a till batch must meet (docs/api/odoo-till-contract.md, request table).

Pure Python: ``check_receipt`` returns the normalised values or raises ``Rejected`` with the reason the
till stores in its DLQ. What depends on the database (duplicates, refunds of unknown receipts) is judged
by ``optics.fiscal.document``.
"""

import re
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FN_NUMBER = re.compile(r"[0-9]{16}")  # FFD tag 1041
HLC = re.compile(r"[0-9]{15}\.[0-9]{5}")  # str(kkt_adapter.hlc.Timestamp): wall ms . counter
KINDS = ("sale", "refund", "correction")
DOCUMENT_TYPES = (3, 31)  # FFD: 3 receipt, 31 correction receipt
MAX_FD = 2**32 - 1  # FFD 1040 is a 4-byte counter
MAX_FISCAL_SIGN = 2**48 - 1  # FFD 1077 is at most 6 bytes
MAX_TOTAL = 10**13  # kopecks: the FFD money field holds 5 bytes
MAX_POS_ID = 64
MAX_BATCH = 100
MAX_JOB_REF = 16  # FFD tag 1192 (additional receipt requisite) carries the glasses job's reference
#: FFD 1214 payment methods of an advance: 1 prepayment 100 %, 2 partial prepayment, 3 advance.
ADVANCE_METHODS = (1, 2, 3)


class Rejected(Exception):
    """A receipt cannot be recorded; the message is the reason returned to the till."""


def is_int(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _uuid(value, field):
    if not isinstance(value, str):
        raise Rejected(f"'{field}' must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Rejected(f"'{field}' is not a UUID: {value!r}") from None


def _issued_at(value):
    """The FN's signing time as naive UTC (how Odoo stores datetimes)."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Rejected("'issued_at' must be an ISO 8601 date-time with a UTC offset")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def check_receipt(item):
    """Validate one receipt's fields; returns the normalised values or raises ``Rejected``."""
    receipt_id = _uuid(item.get("receipt_id"), "receipt_id")
    fn = item.get("fn_number")
    if not isinstance(fn, str) or not FN_NUMBER.fullmatch(fn):
        raise Rejected("'fn_number' must be a string of 16 digits")
    if not is_int(item.get("fd"), 1, MAX_FD):
        raise Rejected(f"'fd' must be an integer 1..{MAX_FD}")
    if not is_int(item.get("fiscal_sign"), 0, MAX_FISCAL_SIGN):
        raise Rejected(f"'fiscal_sign' must be an integer 0..{MAX_FISCAL_SIGN}")
    issued_at = _issued_at(item.get("issued_at"))
    kind = item.get("kind")
    if kind not in KINDS:
        raise Rejected(f"'kind' must be one of {', '.join(KINDS)}")
    if not is_int(item.get("total"), 0, MAX_TOTAL):
        raise Rejected(f"'total' must be an integer number of kopecks 0..{MAX_TOTAL}")
    original = item.get("original_receipt_id")
    original = _uuid(original, "original_receipt_id") if original is not None else None
    if kind == "refund" and original is None:
        raise Rejected("a refund must name its original receipt in 'original_receipt_id'")
    hlc = item.get("hlc")
    if not isinstance(hlc, str) or not HLC.fullmatch(hlc):
        raise Rejected("'hlc' must be an HLC timestamp like '001764000000000.00000'")
    if not isinstance(item.get("document"), dict):
        raise Rejected("'document' must be a JSON object (the validated receipt request)")
    document_type = item.get("fiscal_document_type", 3)
    if document_type not in DOCUMENT_TYPES or isinstance(document_type, bool):
        raise Rejected("'fiscal_document_type' must be 3 (receipt) or 31 (correction receipt)")
    key = item.get("idempotency_key")
    job_ref = item.get("job_ref")
    if job_ref is not None and not (isinstance(job_ref, str) and 0 < len(job_ref) <= MAX_JOB_REF):
        raise Rejected(f"'job_ref' must be a job reference of 1..{MAX_JOB_REF} characters")
    prepayment = item.get("prepayment", 0)
    if not is_int(prepayment, 0, item["total"]):
        raise Rejected("'prepayment' must be an integer number of kopecks 0..total (the 1215 offset)")
    if prepayment and (kind != "sale" or job_ref is None):
        raise Rejected("a prepayment offset (1215) belongs on a sale naming its job in 'job_ref'")
    return {
        "receipt_id": receipt_id,
        "fn_number": fn,
        "fd": item["fd"],
        "fiscal_sign": item["fiscal_sign"],
        "issued_at": issued_at,
        "kind": kind,
        "total": item["total"],
        "original_receipt_id": original if kind == "refund" else None,
        "hlc": hlc,
        "fiscal_document_type": document_type,
        "document": item["document"],
        # The POS order's key (pos.order.access_token), canonical lower-case: the join to the order.
        "idempotency_key": _uuid(key, "idempotency_key") if key is not None else None,
        "job_ref": job_ref,
        "prepayment": prepayment,
        "advance": advance_kopecks(item["document"]),
    }


def advance_kopecks(document):
    """The sum of a receipt's advance items (1214 = 1, 2 or 3) in kopecks, from the till's document (the
    validated request: roubles as JSON numbers or decimal strings; a line without ``amount`` is price x
    quantity, rounded as the till rounds it)."""
    total = 0
    for line in document.get("items") or ():
        if not isinstance(line, dict) or line.get("payment_method") not in ADVANCE_METHODS:
            continue
        try:
            if "amount" in line:
                total += int(Decimal(str(line["amount"])) * 100)
            else:
                price = int(Decimal(str(line.get("price"))) * 100)
                quantity = Decimal(str(line.get("quantity", 1)))
                total += int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        except (InvalidOperation, TypeError, ValueError):
            raise Rejected("an advance item's price, quantity or amount is not a number") from None
    return total
