"""Decoding of FN documents read back with FF0A (find document by FD number).

The data layout depends on the document type: receipts carry settlement and total, shift reports their
shift number; anything else only its number, time and fiscal sign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kkt_adapter.kkt.errors import KktProtocolError
from kkt_adapter.kkt.types import DocumentType, FoundDocument
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih.codec import CodecError


def found_document(a: dict[str, Any], fd_number: int) -> FoundDocument:
    """The FF0A answer ``a`` for ``fd_number`` as a FoundDocument (KktProtocolError when malformed)."""
    doc_type = a["document_type"]
    try:
        typed: DocumentType | int = DocumentType(doc_type)
    except ValueError:
        typed = doc_type
    try:
        if doc_type in (DocumentType.RECEIPT, DocumentType.CORRECTION_RECEIPT):
            d = cmd.FOUND_RECEIPT.unpack(a["data"])
        elif doc_type in (DocumentType.SHIFT_OPEN, DocumentType.SHIFT_CLOSE):
            d = cmd.FOUND_SHIFT.unpack(a["data"])
        else:
            d = cmd.FOUND_OTHER.unpack(a["data"])
    except CodecError as exc:
        raise KktProtocolError(f"malformed FF0A data for FD {fd_number}: {exc}") from exc
    return FoundDocument(
        fd_number=d["fd_number"],
        document_type=typed,
        ofd_confirmed=bool(a["ofd_confirmed"]),
        issued_at=d["issued_at"] or datetime(2000, 1, 1),
        fiscal_sign=d["fiscal_sign"],
        settlement=d.get("settlement"),
        total=d.get("total"),
    )
