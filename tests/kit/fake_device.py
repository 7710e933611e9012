"""``FakeDevice``: an in-memory KKT at the ``FiscalDevice`` interface, for fast unit tests of the fiscal core.

It models what the fiscal core relies on — the FN's journal of signed documents (FD numbers, receipt
totals and settlement kinds), the shift, paper, an open document left by a cut sequence, the OFD queue,
the cash drawer with its cash in / cash out documents and counters —
and lets a test script faults per method: ``fail("fiscalize", KktTimeout("..."), signed=True)`` makes
the next ``fiscalize`` sign the receipt and then lose the answer (the duplicate-print trap), ``signed=False``
loses it before the FN signs (``cash_in`` / ``cash_out`` alike: recorded, or not, then the answer lost).
The wire format and the link are tested against the real emulator over a pty (tests/integration); this
fake is for the decisions above them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

from kkt_adapter.kkt.errors import KktInsufficientCash
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import (
    CashCounters,
    CashDocument,
    Cashier,
    DeviceInfo,
    DocumentType,
    FiscalReceipt,
    FiscalResult,
    FnExpiry,
    FnStatus,
    FoundDocument,
    OfdStatus,
    SettlementKind,
    ShiftReport,
    ShortStatus,
)
from kkt_adapter.shtrih import codec

MODE_SHIFT_OPEN, MODE_SHIFT_EXPIRED, MODE_SHIFT_CLOSED = 2, 3, 4


@dataclass
class Document:
    fd: int
    doc_type: DocumentType
    settlement: int | None = None
    total: int | None = None
    text: str = ""
    confirmed: bool = False
    cashier: dict | None = None  # {"name", "inn"}: tags 1021 / 1203 of a receipt or a shift report


@dataclass
class Fault:
    exc: Exception
    signed: bool  # fiscalize/z_report/cash_in/cash_out only: done before the failure


class FakeDevice(FiscalDevice):
    def __init__(self, fn_number: str = "9999000000000042", *, shift_open: bool = True):
        self.fn_number = fn_number
        self.documents: list[Document] = []
        self.shift_open = shift_open
        self.shift_number = 1 if shift_open else 0
        self.shift_expired = False
        self.paper = True
        self.open_document = 0
        self.is_open = False
        self.calls: list[str] = []
        self.drawer = 0  # kopecks
        self.cash_documents: list[tuple[str, int]] = []  # (in | out, kopecks), oldest first
        self._faults: dict[str, list[Fault | None]] = {}  # None: a call that passes

    # --- persistence: an FN outlives the process (tests/kit/field_buffer.py saves one beside a buffer) ---

    def dumps(self) -> str:
        docs = [{**asdict(d), "doc_type": int(d.doc_type)} for d in self.documents]
        state = {
            "fn_number": self.fn_number,
            "shift_open": self.shift_open,
            "shift_number": self.shift_number,
        }
        return json.dumps({**state, "documents": docs}, ensure_ascii=False, indent=1)

    @classmethod
    def loads(cls, text: str) -> FakeDevice:
        state = json.loads(text)
        device = cls(state["fn_number"], shift_open=state["shift_open"])
        device.shift_number = state["shift_number"]
        device.documents = [
            Document(**{**d, "doc_type": DocumentType(d["doc_type"])}) for d in state["documents"]
        ]
        return device

    # --- scripting ---

    def fail(
        self, method: str, exc: Exception, *, signed: bool = False, times: int = 1, after: int = 0
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``exc``, once ``after`` more calls have passed."""
        self._faults.setdefault(method, []).extend(
            [None] * after + [Fault(exc, signed) for _ in range(times)]
        )

    def receipts(self) -> list[Document]:
        return [
            d for d in self.documents if d.doc_type in (DocumentType.RECEIPT, DocumentType.CORRECTION_RECEIPT)
        ]

    def _enter(self, method: str) -> Fault | None:
        self.calls.append(method)
        faults = self._faults.get(method)
        fault = faults.pop(0) if faults else None
        if fault is not None and not fault.signed:
            raise fault.exc
        return fault

    def _sign(self, doc_type: DocumentType, **fields: object) -> Document:
        doc = Document(len(self.documents) + 1, doc_type, **fields)
        self.documents.append(doc)
        return doc

    # --- FiscalDevice ---

    def open(self) -> None:
        self._enter("open")
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def short_status(self) -> ShortStatus:
        self._enter("short_status")
        mode = (
            MODE_SHIFT_EXPIRED
            if self.shift_expired
            else (MODE_SHIFT_OPEN if self.shift_open else MODE_SHIFT_CLOSED)
        )
        return ShortStatus(mode=mode, submode=0 if self.paper else 1, flags=0)

    def device_info(self) -> DeviceInfo:
        return DeviceInfo(0, 0, 1, 0, 0, 0, "FakeDevice")

    def open_shift(self, cashier: Cashier | None = None) -> ShiftReport:
        self._enter("open_shift")
        self.shift_open, self.shift_number = True, self.shift_number + 1
        doc = self._sign(DocumentType.SHIFT_OPEN, cashier=_tags(cashier))
        return ShiftReport(doc.fd, self.shift_number, issued_at=datetime(2026, 12, 4, 9))

    def x_report(self) -> None:
        self._enter("x_report")

    def z_report(self, cashier: Cashier | None = None) -> ShiftReport:
        fault = self._enter("z_report")
        self.shift_open = self.shift_expired = False
        doc = self._sign(DocumentType.SHIFT_CLOSE, cashier=_tags(cashier))
        report = ShiftReport(doc.fd, self.shift_number, issued_at=datetime(2026, 12, 4, 21))
        if fault is not None:
            raise fault.exc
        return report

    def fiscalize(self, receipt: FiscalReceipt) -> FiscalResult:
        fault = self._enter("fiscalize")
        doc_type = DocumentType.CORRECTION_RECEIPT if receipt.correction else DocumentType.RECEIPT
        doc = self._sign(
            doc_type,
            settlement=int(receipt.kind),
            total=receipt.total,
            text=receipt.text,
            cashier=_tags(receipt.cashier),
        )
        into = receipt.kind in (SettlementKind.SALE, SettlementKind.PURCHASE_RETURN)
        self.drawer = max(0, self.drawer + (receipt.cash if into else -receipt.cash))
        if fault is not None:
            raise fault.exc  # signed, answer lost
        return FiscalResult(
            fd_number=doc.fd, fiscal_sign=1_000_000 + doc.fd, issued_at=datetime(2026, 12, 4, 12)
        )

    def cancel_receipt(self) -> None:
        self._enter("cancel_receipt")
        self.open_document = 0

    def fn_status(self) -> FnStatus:
        self._enter("fn_status")
        return FnStatus(
            life_phase=3,
            open_document=self.open_document,
            shift_open=self.shift_open,
            warnings=0,
            issued_at=datetime(2026, 12, 4, 12),
            fn_number=self.fn_number,
            last_fd=len(self.documents),
        )

    def fn_expiry(self) -> FnExpiry:
        return FnExpiry(expires_on=date(2028, 1, 1))

    def ofd_status(self) -> OfdStatus:
        self._enter("ofd_status")
        waiting = [d for d in self.documents if not d.confirmed]
        first = waiting[0].fd if waiting else 0
        return OfdStatus(len(waiting), first, datetime(2026, 12, 4, 12) if waiting else None)

    def unconfirmed_count(self) -> int:
        return len([d for d in self.documents if not d.confirmed])

    def find_document(self, fd_number: int) -> FoundDocument:
        self._enter("find_document")
        doc = self.documents[fd_number - 1]
        return FoundDocument(
            fd_number=doc.fd,
            document_type=doc.doc_type,
            ofd_confirmed=doc.confirmed,
            issued_at=datetime(2026, 12, 4, 12),
            fiscal_sign=1_000_000 + doc.fd,
            settlement=doc.settlement,
            total=doc.total,
        )

    def cash_in(self, amount: int) -> CashDocument:
        return self._cash("in", amount)

    def cash_out(self, amount: int) -> CashDocument:
        return self._cash("out", amount)

    def _cash(self, kind: str, amount: int) -> CashDocument:
        fault = self._enter(f"cash_{kind}")
        if kind == "out" and amount > self.drawer:
            raise KktInsufficientCash(0x51, 0x46, "not enough cash in the till")
        self.drawer += amount if kind == "in" else -amount
        self.cash_documents.append((kind, amount))
        number = self.cash_counters().document_number
        if fault is not None:
            raise fault.exc  # recorded, answer lost
        return CashDocument(document_number=number)

    def cash_counters(self) -> CashCounters:
        self._enter("cash_counters")
        kinds = [kind for kind, _ in self.cash_documents]
        return CashCounters(
            document_number=len(self.documents) + len(self.cash_documents),
            cash_in_number=kinds.count("in"),
            cash_out_number=kinds.count("out"),
        )

    def cash_in_drawer(self) -> int:
        self._enter("cash_in_drawer")
        return self.drawer

    def list_unconfirmed(self) -> list[int]:
        return [d.fd for d in self.documents if not d.confirmed]

    def read_unconfirmed_document(self, fd_number: int) -> bytes:
        """The FN's message for the OFD: one STLV of the document type with FD, FN number and fiscal sign
        (what the OFD stand-in checks; the emulator's messages carry the whole document)."""
        doc = self.documents[fd_number - 1]
        fields = [
            codec.encode_tlv(1040, codec.encode_uint(doc.fd, 4)),
            codec.tlv_string(1041, self.fn_number),
            codec.encode_tlv(1077, codec.encode_uint(1_000_000 + doc.fd, 4)),
        ]
        return codec.tlv_stlv(int(doc.doc_type), fields)

    def apply_ofd_ack(self, fd_number: int, ack: bytes) -> None:
        self.documents[fd_number - 1].confirmed = True


def _tags(cashier: Cashier | None) -> dict | None:
    return None if cashier is None else {"name": cashier.name, "inn": cashier.inn}
