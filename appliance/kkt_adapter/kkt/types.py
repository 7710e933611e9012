"""Value types exchanged across the fiscal device boundary (vendor-neutral, FFD 1.2 vocabulary).

Money is always an ``int`` number of kopecks; quantities are ``Decimal`` with at most six decimals
(the Shtrih-M wire format carries quantity as an integer of millionths).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class SettlementKind(enum.IntEnum):
    """FFD tag 1054, settlement type."""

    SALE = 1
    SALE_RETURN = 2
    PURCHASE = 3
    PURCHASE_RETURN = 4


class DocumentType(enum.IntEnum):
    """FFD fiscal document types as reported by the FN when a document is looked up (FF0A)."""

    REGISTRATION = 1
    SHIFT_OPEN = 2
    RECEIPT = 3
    BSO = 4
    SHIFT_CLOSE = 5
    FN_CLOSE = 6
    OPERATOR_CONFIRMATION = 7
    REREGISTRATION = 11
    STATE_REPORT = 21
    CORRECTION_RECEIPT = 31
    BSO_CORRECTION = 41


#: FFD tag 1199 VAT rate codes accepted on a receipt item (11/12 apply from 2026-01-05).
VAT_CODES: dict[int, str] = {
    1: "VAT 20%",
    2: "VAT 10%",
    3: "VAT 20/120",
    4: "VAT 10/110",
    5: "VAT 0%",
    6: "not subject to VAT",
    7: "VAT 5%",
    8: "VAT 7%",
    9: "VAT 5/105",
    10: "VAT 7/107",
    11: "VAT 22%",
    12: "VAT 22/122",
}


@dataclass(frozen=True)
class FiscalItem:
    """One receipt line (FFD structure 1059)."""

    name: str  # tag 1030, at most 128 characters
    price: int  # tag 1079, kopecks per unit
    quantity: Decimal  # tag 1023, at most 6 decimals
    amount: int  # tag 1043, kopecks: the line total as agreed with the buyer
    vat: int  # tag 1199 code, see VAT_CODES
    payment_method: int = 4  # tag 1214: 4 = full settlement
    payment_subject: int = 1  # tag 1212: 1 = goods
    measure_unit: int = 0  # tag 2108: 0 = pieces
    department: int = 1  # device department (section) number


@dataclass(frozen=True)
class Correction:
    """Correction receipt basis (FFD 1173 with 1174 = {1178 date, 1179 order number})."""

    correction_type: int  # tag 1173: 0 own initiative, 1 by tax authority order
    basis_date: date  # tag 1178
    basis_number: str = ""  # tag 1179, may be empty for own-initiative corrections


@dataclass(frozen=True)
class Cashier:
    """Who carried out the operation: tag 1021 (the cashier's name and position, at most 64 characters the
    KKT prints) and tag 1203 (the cashier's INN, 12 digits; None when the POS does not know it)."""

    name: str
    inn: str | None = None


@dataclass(frozen=True)
class FiscalReceipt:
    """A receipt to fiscalize: what the driver turns into 8D / FF0C / FF4D / FF46 / FF45."""

    kind: SettlementKind
    items: tuple[FiscalItem, ...]
    cash: int = 0  # tag 1031, kopecks
    electronic: int = 0  # tag 1081, kopecks
    prepayment: int = 0  # tag 1215, kopecks: the offset of an advance taken earlier
    taxation_system: int = 1  # tag 1055 bitmask value: 1 = OSN
    buyer_contact: str | None = None  # tag 1008: phone or e-mail for an e-receipt
    correction: Correction | None = None  # present = correction receipt (FFD type 31)
    text: str = ""  # non-fiscal line printed at the end (we print the receipt id)
    cashier: Cashier | None = None  # tags 1021 / 1203
    job_ref: str | None = None  # tag 1192 (additional receipt attribute): the glasses job, at most 16 chars

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items)


@dataclass(frozen=True)
class FiscalResult:
    """What the FN returned for a closed receipt (FF45)."""

    fd_number: int  # tag 1040
    fiscal_sign: int  # tag 1077
    issued_at: datetime  # tag 1012
    change: int = 0  # kopecks


class CashKind(enum.Enum):
    """A cash movement that is not a sale: cash in (внесение) or cash out (выплата, изъятие)."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class CashDocument:
    """What the KKT answered to a cash in / cash out (Shtrih-M 50 / 51)."""

    document_number: int  # the document's through number (wraps at CashCounters.modulus)


@dataclass(frozen=True)
class CashCounters:
    """Counters of the KKT that move with every cash document: read before one is sent, and again to decide
    after a lost answer whether it was recorded (Shtrih-M operation registers 152, 155, 156)."""

    document_number: int  # through number of the last document of any kind
    cash_in_number: int  # running number of cash-in documents
    cash_out_number: int  # running number of cash-out documents
    modulus: int = 1 << 16  # the counters wrap at this value (2-byte registers)

    def number(self, kind: CashKind) -> int:
        return self.cash_in_number if kind is CashKind.IN else self.cash_out_number

    def next(self, value: int) -> int:
        return (value + 1) % self.modulus


@dataclass(frozen=True)
class ShiftReport:
    """Result of a shift open (E0) or shift close / Z report (41), read back from FF01."""

    fd_number: int
    shift_number: int
    issued_at: datetime | None = None
    fiscal_sign: int | None = None


@dataclass(frozen=True)
class ShortStatus:
    """Short device status (command 10)."""

    mode: int  # 2 = shift open, 3 = shift open over 24 h, 4 = shift closed, 8 = document open
    submode: int  # 0 = paper present; 1/2 = paper out (passive/active)
    flags: int
    operator: int = 0

    @property
    def shift_open(self) -> bool:
        return self.mode in (2, 3) or (self.mode & 0x0F) == 8

    @property
    def shift_expired(self) -> bool:
        return self.mode == 3

    @property
    def paper_out(self) -> bool:
        return self.submode in (1, 2)


@dataclass(frozen=True)
class DeviceInfo:
    """Device type (command FC)."""

    device_type: int
    device_subtype: int
    protocol_version: int
    protocol_subversion: int
    model: int
    language: int
    name: str


@dataclass(frozen=True)
class FnStatus:
    """FN status (FF01)."""

    life_phase: int  # bitmask: 1 ready, 3 fiscal mode, 7 post-fiscal, 15 archive read
    open_document: int  # 0 none, otherwise the type of the open document
    shift_open: bool
    # bitmask: 1 replace FN urgently (1051), 2 resource < 30 days (1050), 4 memory 99 % (1052), 8 OFD timeout
    warnings: int
    issued_at: datetime
    fn_number: str  # tag 1041, 16 characters
    last_fd: int  # number of the last fiscal document signed by the FN


@dataclass(frozen=True)
class OfdStatus:
    """OFD exchange status (FF39)."""

    queue_size: int  # documents not yet confirmed by the OFD
    first_unsent_fd: int  # 0 when the queue is empty
    first_unsent_at: datetime | None  # None when the queue is empty


@dataclass(frozen=True)
class FoundDocument:
    """A fiscal document looked up by number (FF0A)."""

    fd_number: int
    document_type: DocumentType | int
    ofd_confirmed: bool
    issued_at: datetime
    fiscal_sign: int
    settlement: int | None = None  # tag 1054 for receipts, else None
    total: int | None = None  # kopecks for receipts, else None


@dataclass(frozen=True)
class FnExpiry:
    """FN validity (FF03)."""

    expires_on: date
    registrations_left: int = 0


@dataclass(frozen=True)
class Timeouts:
    """Link-layer timeouts in seconds; defaults follow the Shtrih-M v1 exchange rules."""

    byte: float = 0.05  # gap allowed between bytes of one frame
    enq: float = 0.2  # wait for the device's answer to ENQ
    ack: float = 0.5  # wait for the device's ACK after we sent a frame
    answer: float = 10.0  # wait for an answer frame (printing takes a while)
    attempts: int = 5  # ENQ / frame attempts before the device is declared unreachable
    # A command refused with 0x50 (the previous document is still printing: the device answers a
    # fiscal command once the FN has recorded it and prints afterwards) is sent again when the printer is
    # done, for up to this long; a printer busy longer than that is a device problem.
    print_wait: float = 10.0
    extra: dict[str, float] = field(default_factory=dict)  # per-command answer timeout overrides
