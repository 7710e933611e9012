"""The fiscal fields of a POS order and the FNS check QR (plain Python, no ORM).

The QR a receipt carries lets a buyer check it with the FNS (``t=…&s=…&fn=…&i=…&fp=…&n=…``): ``t`` the
KKT's date and time (``YYYYMMDDTHHMM``, store time), ``s`` the total in roubles, ``fn`` the FN number, ``i``
the FD number, ``fp`` the fiscal sign, ``n`` the settlement type (tag 1054: 1 sale, 2 sale return). The POS
builds the same string on its receipt screen (static/src/app/fiscal_receipt.js) from the till's answer.
"""

from datetime import datetime

import pytz

FISCAL_FIELDS = (
    "fiscal_status",
    "fiscal_receipt_id",
    "fiscal_fn_number",
    "fiscal_fd_number",
    "fiscal_sign",
    "fiscal_issued_at",
    "fiscal_total",
    "fiscal_qr",
)
SETTLEMENT = {"sale": 1, "refund": 2}


def check_qr(issued_at, total, fn_number, fd_number, fiscal_sign, settlement):
    """The FNS QR string; ``issued_at`` an ISO datetime in store time, ``total`` roubles as text."""
    moment = datetime.fromisoformat(issued_at)
    return f"t={moment:%Y%m%dT%H%M}&s={total}&fn={fn_number}&i={fd_number}&fp={fiscal_sign}&n={settlement}"


def _settlement(kind, document):
    if kind == "correction":
        kind = ((document or {}).get("correction") or {}).get("settlement", "sale")
    return SETTLEMENT.get(kind, 1)


def fiscal_values(answer, documents):
    """Fiscal fields of an order from the till's FN document (the truth, delivered by the till) or, until it
    arrives, from the till's answer to the POS. Empty when neither says anything."""
    doc = documents.filtered(lambda d: d.kind != "refund")[:1] or documents[:1]
    if doc:
        tz = pytz.timezone(doc.till_id.tz or "Europe/Moscow")
        local = pytz.utc.localize(doc.issued_at).astimezone(tz).replace(tzinfo=None).isoformat()
        total = f"{doc.total / 100:.2f}"
        return {
            "fiscal_status": "printed",
            "fiscal_receipt_id": doc.receipt_id,
            "fiscal_fn_number": doc.fn_number,
            "fiscal_fd_number": doc.fd,
            "fiscal_sign": doc.fiscal_sign,
            "fiscal_issued_at": local,
            "fiscal_total": total,
            "fiscal_qr": check_qr(
                local, total, doc.fn_number, doc.fd, doc.fiscal_sign, _settlement(doc.kind, doc.document)
            ),
        }
    if not answer:
        return {}
    values = {"fiscal_status": answer.get("status"), "fiscal_receipt_id": answer.get("receipt_id")}
    fiscal = answer.get("fiscal_doc")
    if answer.get("status") == "printed" and fiscal:
        values.update(
            {
                "fiscal_fn_number": fiscal["fn_number"],
                "fiscal_fd_number": fiscal["fd_number"],
                "fiscal_sign": fiscal["fiscal_sign"],
                "fiscal_issued_at": fiscal["issued_at"],
                "fiscal_total": fiscal["total"],
                "fiscal_qr": check_qr(
                    fiscal["issued_at"],
                    fiscal["total"],
                    fiscal["fn_number"],
                    fiscal["fd_number"],
                    fiscal["fiscal_sign"],
                    SETTLEMENT.get(answer.get("kind"), 1),
                ),
            }
        )
    return values
