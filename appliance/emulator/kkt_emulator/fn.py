"""Model of the fiscal storage (FN) and the KKT rules around it, persisted in a state directory.

It numbers and signs fiscal documents (shift open 2, receipt 3, correction receipt 31, shift close 5), keeps
the shift (24 h limit), the open receipt, the queue of documents the OFD has not confirmed (30-day block),
the FN expiry date and the paper sensor. Around the FN it keeps the KKT's own counters: the through number
of every document, and the cash in the drawer for the shift (cash sales add, cash refunds subtract — floored
at 0: unlike real firmware the emulator never refuses a cash refund for want of cash —, cash in adds, cash
out subtracts and is refused with 0x46 beyond the drawer; the Z report empties it), with the cash in / cash
out documents in their own journal. Rule violations raise :class:`FnError` carrying the real Shtrih-M
error code. Time is the host clock plus a persisted offset that tests advance through the control socket.
Every change is persisted before the method returns; a signed document reaches the journal (fsync) before
the FN counts it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as E
from kkt_adapter.shtrih.codec import CodecError
from kkt_emulator.store import StateStore

DAY = 86400.0
SHIFT_LIMIT = 24 * 3600.0  # 54-FZ: a shift may not last over 24 hours
OFD_BLOCK_AFTER = 30 * DAY  # 54-FZ art. 4.1: no fiscal signs once a document waits for the OFD over 30 days
OFD_WARNING_AFTER = 5 * DAY  # emulator's choice for warning bit 8 (real FNs use their own threshold)
FN_LIFE_DAYS = 1096  # a 36-month FN
EXPIRY_SOON_DAYS = 30  # warning bit 2 (tag 1050): resource ends within 30 days
EXPIRY_URGENT_DAYS = 3  # warning bit 1 (tag 1051): replace urgently
REGISTRATIONS_LEFT = 11  # 12 (re)registrations per FN, one used by the registration itself
LIFE_PHASE_FISCAL = 3  # FN life phase "fiscal mode"
OPEN_DOC_RECEIPT = 4  # FF01 "current document" code of an open receipt

DOC_SHIFT_OPEN = 2
DOC_RECEIPT = 3
DOC_SHIFT_CLOSE = 5
DOC_CORRECTION = 31

#: 8D receipt type -> FFD 1054 settlement type.
SETTLEMENT_OF_RECEIPT_TYPE = {0: 1, 1: 3, 2: 2, 3: 4}
#: FFD 1199 code -> rate in percent used to compute the VAT included in an amount (0 = no VAT).
VAT_PERCENT = {1: 20, 2: 10, 3: 20, 4: 10, 5: 0, 6: 0, 7: 5, 8: 7, 9: 5, 10: 7, 11: 22, 12: 22}

#: Settlement kinds (FFD 1054) whose cash goes into the drawer (sale, purchase return); the others pay out.
CASH_INTO_DRAWER = {1, 4}
#: The KKT counters beside the FN, persisted in FnState and snapshot in every cash journal record.
CASH_FIELDS = (
    "doc_number",
    "cash_in_drawer",
    "cash_in_number",
    "cash_out_number",
    "cash_in_count",
    "cash_out_count",
    "cash_in_total",
    "cash_out_total",
)

STRING_TAGS = {1008, 1021, 1030, 1041, 1179, 1192, 1203}
UNIXTIME_TAGS = {1012, 1178}
STLV_TAGS = {1059, 1174}


class FnError(Exception):
    """A rule refuses the operation; ``code`` is the Shtrih-M error byte."""

    def __init__(self, code: int):
        super().__init__(E.describe(code))
        self.code = code


def decode_tlv_for_journal(raw: bytes) -> list[dict[str, Any]]:
    """TLVs as readable journal entries: {"tag", "value" (typed when the tag is known), "raw" (hex)}."""
    out = []
    for tag, value in codec.decode_tlvs(raw):
        entry: dict[str, Any] = {"tag": tag, "raw": value.hex()}
        if tag in STRING_TAGS:
            entry["value"] = codec.decode_text(value)
        elif tag in UNIXTIME_TAGS and len(value) == 4:
            entry["value"] = datetime.fromtimestamp(codec.decode_uint(value), UTC).isoformat()
        elif tag in STLV_TAGS:
            entry["value"] = decode_tlv_for_journal(value)
        elif len(value) <= 4:
            entry["value"] = codec.decode_uint(value)
        else:
            entry["value"] = value.hex()
        out.append(entry)
    return out


@dataclass
class FnState:
    """Everything persisted in state.json (the journal holds the documents themselves)."""

    fn_number: str
    secret: str  # hex HMAC key of this FN's fiscal signs
    expires_on: str  # ISO date
    clock_offset: float = 0.0  # seconds added to the host clock
    last_fd: int = 0
    shift_number: int = 0  # number of the current (or last closed) shift
    shift_open: bool = False
    shift_opened_ts: float | None = None
    receipts_in_shift: int = 0
    paper: bool = True
    registrations_left: int = REGISTRATIONS_LEFT
    registrations_done: int = 1
    receipt: dict[str, Any] | None = None  # the open receipt
    # A shift report begun with FF41 (kind "open") / FF42 ("close"): {"kind", "tlvs"} — FF0C adds the
    # cashier's tags (1021 / 1203) to it, E0 / 41 signs it with them.
    shift_report: dict[str, Any] | None = None
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)  # [{"fd", "ts"}], oldest first
    ofd_acks: int = 0  # acknowledgments applied (statistics)
    # KKT counters (Shtrih-M registers, see CASH_FIELDS): through number of every document (152), kopecks in
    # the drawer (241), running numbers of cash in / out documents (155 / 156), count and sum of each in
    # this shift (153 / 154, 242 / 243).
    doc_number: int = 0
    cash_in_drawer: int = 0
    cash_in_number: int = 0
    cash_out_number: int = 0
    cash_in_count: int = 0
    cash_out_count: int = 0
    cash_in_total: int = 0
    cash_out_total: int = 0


class FiscalStorage:
    """The FN plus the KKT rules; thread-safe (one lock around every operation)."""

    def __init__(self, store: StateStore, *, fn_number: str | None = None, expires_on: date | None = None):
        self.store = store
        self.lock = threading.RLock()
        self._docs: dict[int, dict[str, Any]] = {r["fd"]: r for r in store.read_journal()}
        loaded = store.load_state()
        if loaded is None:
            created = datetime.now()
            self.state = FnState(
                fn_number=fn_number or "99" + "".join(secrets.choice("0123456789") for _ in range(14)),
                secret=secrets.token_hex(32),
                expires_on=(expires_on or (created + timedelta(days=FN_LIFE_DAYS)).date()).isoformat(),
            )
        else:
            self.state = FnState(**loaded)
        # A document journaled just before a crash was counted by the FN even if state.json is older.
        self.state.last_fd = max([self.state.last_fd, *self._docs])
        self.state.doc_number = max(self.state.doc_number, self.state.last_fd)
        cash = store.read_cash_journal()
        if cash and cash[-1]["counters"]["doc_number"] > self.state.doc_number:
            for name in CASH_FIELDS:  # a cash document journaled just before a crash was counted too
                setattr(self.state, name, cash[-1]["counters"][name])
        known = {u["fd"] for u in self.state.unconfirmed}
        for fd in sorted(self._docs):
            if fd > (loaded or {}).get("last_fd", 0) and fd not in known:
                self.state.unconfirmed.append({"fd": fd, "ts": self._docs[fd]["ts"]})
        self._save()

    # ---- clock -----------------------------------------------------------------------------------

    def now_ts(self) -> float:
        return time.time() + self.state.clock_offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ts()).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.state.clock_offset += float(seconds)
            self._save()

    # ---- derived state ---------------------------------------------------------------------------

    @property
    def shift_expired(self) -> bool:
        s = self.state
        return (
            s.shift_open and s.shift_opened_ts is not None and self.now_ts() - s.shift_opened_ts > SHIFT_LIMIT
        )

    @property
    def expired(self) -> bool:
        return self.now().date() > date.fromisoformat(self.state.expires_on)

    @property
    def ofd_blocked(self) -> bool:
        q = self.state.unconfirmed
        return bool(q) and self.now_ts() - q[0]["ts"] > OFD_BLOCK_AFTER

    @property
    def warnings(self) -> int:
        flags = 0
        days_left = (date.fromisoformat(self.state.expires_on) - self.now().date()).days
        if days_left <= EXPIRY_URGENT_DAYS:
            flags |= 1
        if days_left <= EXPIRY_SOON_DAYS:
            flags |= 2
        q = self.state.unconfirmed
        if q and self.now_ts() - q[0]["ts"] > OFD_WARNING_AFTER:
            flags |= 8
        return flags

    def document(self, fd: int) -> dict[str, Any] | None:
        return self._docs.get(fd)

    def is_confirmed(self, fd: int) -> bool:
        return fd in self._docs and all(u["fd"] != fd for u in self.state.unconfirmed)

    # ---- shift -----------------------------------------------------------------------------------

    def open_shift(self, started: float) -> dict[str, Any]:
        with self.lock:
            s = self.state
            self._require_paper()
            if s.receipt is not None:
                raise FnError(E.RECEIPT_OPEN)
            if s.shift_open:
                raise FnError(E.NOT_IN_THIS_MODE)
            self._require_can_sign()
            s.shift_number += 1
            content = {"shift": s.shift_number, "tlvs": self._shift_report_tlvs("open")}
            record = self._sign(DOC_SHIFT_OPEN, content, started, 0.0)
            s.shift_open = True
            s.shift_opened_ts = record["ts"]
            s.receipts_in_shift = 0
            self._save()
            return record

    def close_shift(self, started: float) -> dict[str, Any]:
        """Z report. Allowed past 24 h and under the 30-day block (closing the shift is always possible)."""
        with self.lock:
            s = self.state
            self._require_open_shift_without_receipt()
            if self.expired:
                raise FnError(E.FN_EXPIRED)
            extra = {
                "shift": s.shift_number,
                "receipts": s.receipts_in_shift,
                "unconfirmed": len(s.unconfirmed),  # tag 1097 (before this report)
                "first_unconfirmed_ts": s.unconfirmed[0]["ts"] if s.unconfirmed else None,  # tag 1098
                "tlvs": self._shift_report_tlvs("close"),
            }
            record = self._sign(DOC_SHIFT_CLOSE, extra, started, 0.0)
            s.shift_open = False
            s.shift_opened_ts = None
            s.cash_in_drawer = s.cash_in_count = s.cash_out_count = s.cash_in_total = s.cash_out_total = 0
            self._save()
            return record

    def begin_shift_report(self, kind: str) -> None:
        """FF41 (``kind`` "open") / FF42 ("close"): start the shift report FF0C tags go into until E0 / 41.

        Refused like the report itself would be (no paper, a receipt open, the shift already open / not
        open); beginning again drops the tags collected so far.
        """
        with self.lock:
            s = self.state
            self._require_paper()
            if s.receipt is not None:
                raise FnError(E.RECEIPT_OPEN)
            if kind == "open" and s.shift_open:
                raise FnError(E.NOT_IN_THIS_MODE)
            if kind == "close" and not s.shift_open:
                raise FnError(E.SHIFT_NOT_OPEN)
            s.shift_report = {"kind": kind, "tlvs": []}
            self._save()

    def _shift_report_tlvs(self, kind: str) -> list[dict[str, Any]]:
        """The tags of the shift report begun for ``kind`` (none if not begun); that report is used up."""
        report, self.state.shift_report = self.state.shift_report, None
        return report["tlvs"] if report and report["kind"] == kind else []

    def x_report(self) -> None:
        with self.lock:
            self._require_paper()
            if self.state.receipt is not None:
                raise FnError(E.RECEIPT_OPEN)
            self.state.doc_number += 1  # printed: a document of the KKT, not of the FN
            self._save()

    # ---- receipt ---------------------------------------------------------------------------------

    def open_receipt(self, receipt_type: int) -> None:
        with self.lock:
            s = self.state
            if receipt_type not in SETTLEMENT_OF_RECEIPT_TYPE:
                raise FnError(E.BAD_PARAMETERS)
            if s.receipt is not None:
                raise FnError(E.RECEIPT_OPEN)
            self._require_paper()
            if not s.shift_open:
                raise FnError(E.SHIFT_NOT_OPEN)
            if self.shift_expired:
                raise FnError(E.SHIFT_OVER_24H)
            self._require_can_sign()
            s.shift_report = None  # a shift report begun and abandoned is dropped
            s.receipt = {
                "receipt_type": receipt_type,
                "settlement": SETTLEMENT_OF_RECEIPT_TYPE[receipt_type],
                "items": [],
                "tlvs": [],
                "item_tlvs": [],  # TLVs waiting for the next operation (FF4D)
                "busy": 0.0,  # emulator service seconds spent on this receipt so far
            }
            self._save()

    def add_document_tlv(self, raw: bytes) -> None:
        """FF0C: into the open receipt, else into the shift report begun by FF41 / FF42."""
        with self.lock:
            document = self.state.receipt if self.state.receipt is not None else self.state.shift_report
            if document is None:
                raise FnError(E.RECEIPT_CLOSED)
            document["tlvs"].extend(self._parse_tlv(raw))
            self._save()

    def add_item_tlv(self, raw: bytes) -> None:
        with self.lock:
            receipt = self._open_receipt()
            receipt["item_tlvs"].extend(self._parse_tlv(raw))
            self._save()

    def add_item(self, v: dict[str, Any]) -> None:
        """One FF46 operation (values as decoded by the command layout)."""
        with self.lock:
            receipt = self._open_receipt()
            self._require_paper()
            if v["operation"] != receipt["settlement"]:
                raise FnError(0x49)  # operation impossible in an open receipt of this type
            quantity: Decimal = v["quantity"]
            if v["tax_rate"] not in VAT_PERCENT or quantity <= 0:
                raise FnError(E.BAD_PARAMETERS)
            expected = (Decimal(v["price"]) * quantity).quantize(Decimal(1), ROUND_HALF_UP)
            if abs(int(expected) - v["amount"]) > 1:  # vendor rule: the sum may differ by 1 kopeck at most
                raise FnError(E.BAD_PARAMETERS)
            rate = VAT_PERCENT[v["tax_rate"]]
            vat_sum = v["tax_amount"]
            if vat_sum == codec.MONEY_UNSPECIFIED:
                vat_sum = int(
                    (Decimal(v["amount"]) * rate / (100 + rate)).quantize(Decimal(1), ROUND_HALF_UP)
                )
            receipt["items"].append(
                {
                    "name": v["name"],
                    "qty": str(quantity.normalize()),
                    "price": v["price"],
                    "amount": v["amount"],
                    "vat": v["tax_rate"],
                    "vat_sum": vat_sum,
                    "payment_method": v["payment_method"],
                    "payment_subject": v["payment_subject"],
                    "department": v["department"],
                    "tlvs": receipt["item_tlvs"],
                }
            )
            receipt["item_tlvs"] = []
            self._save()

    def close_receipt(self, v: dict[str, Any], started: float) -> tuple[dict[str, Any], int]:
        """FF45: sign the receipt. Returns (journal record, change in kopecks)."""
        with self.lock:
            s = self.state
            receipt = self._open_receipt()
            self._require_paper()
            if not receipt["items"]:
                raise FnError(E.ZERO_RECEIPT_TOTAL)
            if self.shift_expired:
                raise FnError(E.FN_SHIFT_OVER_24H)
            self._require_can_sign()
            total = sum(item["amount"] for item in receipt["items"])
            due = total - v["rounding"]
            payments: list[int] = v["payments"]
            # Every slot but cash (electronic, the offset of an advance in 13, ...) pays without change.
            cash, non_cash = payments[cmd.SLOT_CASH], sum(payments[1:])
            if non_cash > due:
                raise FnError(E.ELECTRONIC_OVER_TOTAL)
            if cash + non_cash < due:
                raise FnError(E.PAYMENT_LESS_THAN_TOTAL)
            change = cash + non_cash - due
            vat_sums: dict[str, int] = {}
            for item in receipt["items"]:
                vat_sums[str(item["vat"])] = vat_sums.get(str(item["vat"]), 0) + item["vat_sum"]
            correction = any(t["tag"] == 1173 for t in receipt["tlvs"])
            s.receipts_in_shift += 1
            content = {
                "shift": s.shift_number,
                "receipt_number": s.receipts_in_shift,
                "settlement": receipt["settlement"],
                "receipt_type": receipt["receipt_type"],
                "total": due,
                "rounding": v["rounding"],
                "items": receipt["items"],
                "payments": _payments(payments),
                "change": change,
                "vat_sums": vat_sums,
                "taxation_system": v["taxation_system"],
                "tlvs": receipt["tlvs"],
                "text": v["text"],
            }
            doc_type = DOC_CORRECTION if correction else DOC_RECEIPT
            record = self._sign(doc_type, content, started, receipt["busy"])
            kept = cash - change  # the change is handed back in cash
            if receipt["settlement"] in CASH_INTO_DRAWER:
                s.cash_in_drawer += kept
            else:
                s.cash_in_drawer = max(0, s.cash_in_drawer - kept)
            s.receipt = None
            self._save()
            return record, change

    def cancel_receipt(self) -> None:
        with self.lock:
            self._open_receipt()
            self._require_paper()  # the cancellation is printed
            self.state.receipt = None
            self._save()

    def drop_open_receipt(self) -> bool:
        """Power loss: an unfinished receipt is gone (nothing was fiscalized). True if one was open."""
        with self.lock:
            had = self.state.receipt is not None
            self.state.receipt = None
            self._save()
            return had

    def add_receipt_busy(self, seconds: float) -> None:
        """Account emulator service time to the open receipt (reported as service_seconds when signed)."""
        with self.lock:
            if self.state.receipt is not None:
                self.state.receipt["busy"] += seconds

    # ---- cash in / cash out (documents of the KKT: the FN signs nothing) ---------------------------

    def cash_operation(self, kind: str, amount: int) -> dict[str, Any]:
        """50 (``kind`` "in") / 51 ("out"): journal the document (fsync), then count it and move the drawer.

        Refused like a receipt: no paper, a receipt open, no shift open, the shift over 24 h; a cash out
        beyond the drawer with 0x46.
        """
        with self.lock:
            s = self.state
            self._require_open_shift_without_receipt()
            if self.shift_expired:
                raise FnError(E.SHIFT_OVER_24H)
            if amount <= 0:
                raise FnError(E.BAD_PARAMETERS)
            if kind == "out" and amount > s.cash_in_drawer:
                raise FnError(E.INSUFFICIENT_CASH)
            counters = {name: getattr(s, name) for name in CASH_FIELDS}
            counters["doc_number"] += 1
            counters["cash_in_drawer"] += amount if kind == "in" else -amount
            counters[f"cash_{kind}_number"] += 1
            counters[f"cash_{kind}_count"] += 1
            counters[f"cash_{kind}_total"] += amount
            ts = self.now_ts()
            record = {
                "kind": f"cash_{kind}",
                "amount": amount,
                "document_number": counters["doc_number"],
                "number": counters[f"cash_{kind}_number"],
                "shift": s.shift_number,
                "drawer_after": counters["cash_in_drawer"],
                "datetime": datetime.fromtimestamp(ts).replace(microsecond=0).isoformat(),
                "ts": ts,
                "counters": counters,
            }
            self.store.append_cash(record)  # durable before the KKT counts it
            for name, value in counters.items():
                setattr(s, name, value)
            self._save()
            return record

    def money_register(self, number: int) -> int:
        """1A: kopecks; registers the emulator does not model read 0."""
        s = self.state
        return {
            cmd.MONEY_CASH_IN_DRAWER: s.cash_in_drawer,
            cmd.MONEY_CASH_IN_TOTAL: s.cash_in_total,
            cmd.MONEY_CASH_OUT_TOTAL: s.cash_out_total,
        }.get(number, 0)

    def operation_register(self, number: int) -> int:
        """1B: 2-byte counters (they wrap); registers the emulator does not model read 0."""
        s = self.state
        value = {
            cmd.OPERATION_DOCUMENT_NUMBER: s.doc_number,
            cmd.OPERATION_CASH_IN_COUNT: s.cash_in_count,
            cmd.OPERATION_CASH_OUT_COUNT: s.cash_out_count,
            cmd.OPERATION_CASH_IN_NUMBER: s.cash_in_number,
            cmd.OPERATION_CASH_OUT_NUMBER: s.cash_out_number,
        }.get(number, 0)
        return value & 0xFFFF

    # ---- OFD relay (modelled) --------------------------------------------------------------------

    def document_message(self, fd: int) -> bytes:
        """The FN's message for the OFD about one document: an FFD-style STLV (container tag = doc type)."""
        with self.lock:
            record = self._docs.get(fd)
            if record is None:
                raise FnError(E.FN_NO_DATA)
            return build_document_message(record, self.state.fn_number)

    def apply_ack(self, fd: int, ack: bytes) -> None:
        """Apply an OFD acknowledgment. Idempotent; an ack naming another FD (tag 1040) is refused."""
        with self.lock:
            if fd not in self._docs or not ack:
                raise FnError(E.FN_NO_DATA if fd not in self._docs else E.FN_BAD_PARAMETERS)
            try:
                named = [codec.decode_uint(v) for t, v in codec.decode_tlvs(ack) if t == 1040]
            except CodecError:
                named = []
            if named and named[0] != fd:
                raise FnError(E.FN_OFD_MESSAGE_REJECTED)
            before = len(self.state.unconfirmed)
            self.state.unconfirmed = [u for u in self.state.unconfirmed if u["fd"] != fd]
            if len(self.state.unconfirmed) != before:
                self.state.ofd_acks += 1
                self._save()

    def confirm(self, fds: list[int] | None = None) -> int:
        """Control socket: the OFD confirms these documents (all when None). Returns how many were pending."""
        with self.lock:
            before = len(self.state.unconfirmed)
            if fds is None:
                self.state.unconfirmed = []
            else:
                wanted = set(fds)
                self.state.unconfirmed = [u for u in self.state.unconfirmed if u["fd"] not in wanted]
            confirmed = before - len(self.state.unconfirmed)
            self.state.ofd_acks += confirmed
            self._save()
            return confirmed

    # ---- settings (control socket) ---------------------------------------------------------------

    def set_paper(self, present: bool) -> None:
        with self.lock:
            self.state.paper = bool(present)
            self._save()

    def set_expiry(self, expires_on: date) -> None:
        with self.lock:
            self.state.expires_on = expires_on.isoformat()
            self._save()

    def snapshot(self) -> dict[str, Any]:
        """State for `ctl state` (the signing secret is left out)."""
        with self.lock:
            data = asdict(self.state)
            data.pop("secret")
            data.update(
                now=self.now().isoformat(),
                shift_expired=self.shift_expired,
                ofd_blocked=self.ofd_blocked,
                expired=self.expired,
                warnings=self.warnings,
                documents=len(self._docs),
            )
            return data

    # ---- internals -------------------------------------------------------------------------------

    def _open_receipt(self) -> dict[str, Any]:
        if self.state.receipt is None:
            raise FnError(E.RECEIPT_CLOSED)
        return self.state.receipt

    def _require_paper(self) -> None:
        if not self.state.paper:
            raise FnError(E.NO_RECEIPT_PAPER)

    def _require_open_shift_without_receipt(self) -> None:
        """Paper in, no receipt open, a shift open: what a Z report and a cash in / cash out need."""
        self._require_paper()
        if self.state.receipt is not None:
            raise FnError(E.RECEIPT_OPEN)
        if not self.state.shift_open:
            raise FnError(E.SHIFT_NOT_OPEN)

    def _require_can_sign(self) -> None:
        if self.expired:
            raise FnError(E.FN_EXPIRED)
        if self.ofd_blocked:
            raise FnError(E.FN_OFD_WAIT_EXHAUSTED)

    @staticmethod
    def _parse_tlv(raw: bytes) -> list[dict[str, Any]]:
        try:
            entries = decode_tlv_for_journal(raw)
        except CodecError as exc:
            raise FnError(E.FN_BAD_PARAMETERS) from exc
        if not entries:
            raise FnError(E.FN_BAD_PARAMETERS)
        return entries

    def _sign(self, doc_type: int, content: dict[str, Any], started: float, busy: float) -> dict[str, Any]:
        """Number, sign and journal a document (fsync), then count it. Caller holds the lock and saves."""
        s = self.state
        fd = s.last_fd + 1
        ts = self.now_ts()
        record: dict[str, Any] = {
            "fd": fd,
            "type": doc_type,
            "fn_number": s.fn_number,
            "datetime": datetime.fromtimestamp(ts).replace(microsecond=0).isoformat(),
            "ts": ts,
            **content,
        }
        canonical = json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
        digest = hmac.new(bytes.fromhex(s.secret), canonical + fd.to_bytes(4, "little"), hashlib.sha256)
        record["fp"] = int.from_bytes(digest.digest()[:4], "big")
        record["service_seconds"] = round(busy + (time.monotonic() - started), 6)
        self.store.append_journal(record)  # durable before the FN counts it
        s.last_fd = fd
        s.doc_number += 1
        s.unconfirmed.append({"fd": fd, "ts": ts})
        self._docs[fd] = record
        return record

    def _save(self) -> None:
        self.store.save_state(asdict(self.state))


def _payments(slots: list[int]) -> dict[str, Any]:
    """The FF45 payment sums as journaled: 1031 cash, 1081 electronic, 1215 the offset of an advance (slot
    13), ``other`` the rest, and every slot as sent (``slots``)."""
    named = (cmd.SLOT_CASH, cmd.SLOT_ELECTRONIC, cmd.SLOT_PREPAYMENT)
    return {
        "cash": slots[cmd.SLOT_CASH],
        "electronic": slots[cmd.SLOT_ELECTRONIC],
        "prepayment": slots[cmd.SLOT_PREPAYMENT],
        "other": sum(value for i, value in enumerate(slots) if i not in named),
        "slots": list(slots),
    }


def build_document_message(record: dict[str, Any], fn_number: str) -> bytes:
    """FFD-style TLV rendering of a journaled document (what the FN would hand over for the OFD)."""
    u32 = codec.encode_uint
    at = datetime.fromisoformat(record["datetime"])
    fields = [
        codec.tlv_unixtime(1012, at),
        codec.encode_tlv(1040, u32(record["fd"], 4)),
        codec.tlv_string(1041, fn_number),
        codec.encode_tlv(1077, u32(record["fp"], 4)),
    ]
    if "shift" in record:
        fields.append(codec.encode_tlv(1038, u32(record["shift"], 4)))
    if record["type"] in (DOC_SHIFT_OPEN, DOC_SHIFT_CLOSE):
        fields += [codec.encode_tlv(t["tag"], bytes.fromhex(t["raw"])) for t in record.get("tlvs", [])]
    if record["type"] in (DOC_RECEIPT, DOC_CORRECTION):
        fields += [
            codec.tlv_byte(1054, record["settlement"]),
            codec.encode_tlv(1020, u32(record["total"], 5)),
            codec.encode_tlv(1031, u32(record["payments"]["cash"], 5)),
            codec.encode_tlv(1081, u32(record["payments"]["electronic"], 5)),
            codec.encode_tlv(1215, u32(record["payments"].get("prepayment", 0), 5)),
            codec.tlv_byte(1055, record["taxation_system"]),
        ]
        for t in record["tlvs"]:
            fields.append(codec.encode_tlv(t["tag"], bytes.fromhex(t["raw"])))
        for item in record["items"]:
            qty = int(Decimal(item["qty"]) * codec.QTY_SCALE)
            children = [
                codec.tlv_string(1030, item["name"]),
                codec.encode_tlv(1079, u32(item["price"], 5)),
                codec.encode_tlv(1023, bytes([6]) + u32(qty, 6)),  # FVLN: 6 decimals
                codec.encode_tlv(1043, u32(item["amount"], 5)),
                codec.tlv_byte(1199, item["vat"]),
                codec.tlv_byte(1214, item["payment_method"]),
                codec.tlv_byte(1212, item["payment_subject"]),
            ]
            children += [codec.encode_tlv(t["tag"], bytes.fromhex(t["raw"])) for t in item["tlvs"]]
            fields.append(codec.tlv_stlv(1059, children))
    if record["type"] == DOC_SHIFT_CLOSE:
        fields.append(codec.encode_tlv(1097, u32(record["unconfirmed"], 4)))
    return codec.tlv_stlv(record["type"], fields)
