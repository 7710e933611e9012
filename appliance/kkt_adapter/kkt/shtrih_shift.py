"""Shift open (E0), X (40) and Z (41) reports on a Shtrih-M KKT, with the cashier's tags and the read-back.

With a cashier, the report is begun first (FF41 shift open / FF42 shift close) and FF0C puts tags 1021 /
1203 into it; E0 / 41 then signs it. A signed report is read back (FF01 last FD, FF0A its shift number and
fiscal sign); a failed read-back is a KktTimeout (the report happened: the caller checks the FN).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktProtocolError, KktTimeout
from kkt_adapter.kkt.shtrih_receipt import cashier_tlvs
from kkt_adapter.kkt.types import Cashier, DocumentType, ShiftReport
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as device_errors
from kkt_adapter.shtrih.codec import CodecError

log = logging.getLogger(__name__)


class ShtrihShift:
    """The shift part of ``ShtrihDriver`` (a mixin: it sends through the driver's ``_call``)."""

    _call: Callable[..., dict[str, Any]]

    def open_shift(self, cashier: Cashier | None = None) -> ShiftReport:
        self._cashier_tags(cmd.BEGIN_OPEN_SHIFT, cashier)
        self._call(cmd.OPEN_SHIFT)
        return self._last_shift_report(cmd.OPEN_SHIFT, DocumentType.SHIFT_OPEN)

    def x_report(self) -> None:
        self._call(cmd.X_REPORT)

    def z_report(self, cashier: Cashier | None = None) -> ShiftReport:
        self._cashier_tags(cmd.BEGIN_CLOSE_SHIFT, cashier)
        self._call(cmd.Z_REPORT)
        return self._last_shift_report(cmd.Z_REPORT, DocumentType.SHIFT_CLOSE)

    def _cashier_tags(self, begin: cmd.Command, cashier: Cashier | None) -> None:
        """Begin the shift report (FF41 / FF42) and put the cashier's tags into it (FF0C); nothing is signed
        until E0 / 41. Firmware without the begin command signs the report without the tags (logged).

        ValueError before anything is sent when the cashier cannot be encoded; a timeout here is a
        KktTimeout like any other (nothing was signed yet: the caller's check of the shift finds it open or
        closed as it was)."""
        if cashier is None:
            return
        try:
            tlvs = cashier_tlvs(cashier)
        except CodecError as exc:
            raise ValueError(f"cashier cannot be encoded: {exc}") from exc
        try:
            self._call(begin)
        except KktDeviceError as exc:
            if exc.code != device_errors.COMMAND_NOT_SUPPORTED:
                raise
            log.warning("the KKT does not support %s: the report goes without the cashier's tags", begin.hex)
            return
        for tlv in tlvs:
            self._call(cmd.TLV_TO_DOCUMENT, tlv=tlv)

    def _last_shift_report(self, done: cmd.Command, expected: DocumentType) -> ShiftReport:
        """Read back the report just signed: FF01 gives its FD number, FF0A its shift number and sign.

        The report itself succeeded, so a failed read-back is reported as KktTimeout (reconcile), never as an
        error that would mean "not executed".
        """
        try:
            last_fd = self._call(cmd.FN_STATUS)["last_fd"]
            a = self._call(cmd.FIND_DOCUMENT, fd_number=last_fd)
            if a["document_type"] != expected:
                raise KktProtocolError(
                    f"last FD {last_fd} has type {a['document_type']}, not {int(expected)}"
                )
            d = cmd.FOUND_SHIFT.unpack(a["data"])
        except (KktError, CodecError) as exc:
            raise KktTimeout(f"{done.name} done but its read-back failed: {exc}", command=done.code) from exc
        return ShiftReport(
            fd_number=last_fd,
            shift_number=d["shift_number"],
            issued_at=d["issued_at"],
            fiscal_sign=d["fiscal_sign"],
        )
