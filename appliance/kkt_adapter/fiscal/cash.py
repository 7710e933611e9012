"""``CashDesk``: cash in / cash out on the KKT (внесение / выплата) for the POS session, never recorded twice.

Journal first: an operation is journaled under its Idempotency-Key before the KKT hears of it, and the
KKT's counters (through number of its documents, running number of its cash-in / cash-out documents) are
journaled before the command is sent. A lost answer leaves the operation in doubt (``sending``). Before
any other cash operation, before a Z report, on an admin reconcile and on the retry of the same key, the
counters are read again: moved on by one = the KKT recorded it (done, never sent again); unchanged = it
did not (failed: the retry sends it); anything else (the KKT or its FN replaced, a cash document made at
the KKT's own keyboard) cannot be decided from the KKT and stays in doubt — its retries answer
``kkt_timeout`` — for a human to settle from the KKT's report. Every exchange runs under the session lock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, NoReturn

from kkt_adapter.buffer import cash as cash_journal
from kkt_adapter.buffer import storage
from kkt_adapter.buffer.models import CashOperation
from kkt_adapter.config import Config
from kkt_adapter.fiscal.cash_request import ValidatedCash
from kkt_adapter.fiscal.reconcile import Reconciler
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.fiscal.shifts import Shifts
from kkt_adapter.kkt.errors import KktDeviceError, KktError, KktInsufficientCash, KktLinkError, KktTimeout
from kkt_adapter.kkt.interface import FiscalDevice
from kkt_adapter.kkt.types import CashKind
from kkt_adapter.refusal import Refusal

log = logging.getLogger(__name__)

WHAT = {"in": "cash in", "out": "cash out"}


@dataclass(frozen=True)
class CashOutcome:
    """An operation that came to an end: ``done`` or ``refused`` (not enough cash). ``stored`` holds the
    final answer given earlier for this key (HTTP status and body), to replay as is."""

    operation: CashOperation
    replayed: bool
    stored: tuple[int, dict[str, Any]] | None = None

    @property
    def label(self) -> str:
        """done | insufficient_cash | replayed (the metrics label)."""
        if self.stored is not None:
            return "replayed"
        return "done" if self.operation.status == "done" else "insufficient_cash"


class CashNotDone(Refusal):
    """Not recorded by the KKT now (``kkt_unavailable``, ``kkt_refused``, ``shift_not_open``: a retry with
    the same key tries again) or in doubt (``kkt_timeout``: a retry decides from the KKT first)."""

    def __init__(self, detail: str, *, code: str, operation_id: str, **extra: Any):
        super().__init__(detail, code=code, operation_id=operation_id, **extra)
        self.outcome = "in_doubt" if code == "kkt_timeout" else "failed"


class CashDesk:
    def __init__(self, cfg: Config, session: DeviceSession, reconciler: Reconciler, shifts: Shifts):
        self.cfg = cfg
        self.session = session
        self.reconciler = reconciler
        self.shifts = shifts
        self.reconcile = CashReconciler(session)

    def submit(self, kind: CashKind, key: str, body: dict[str, Any], validated: ValidatedCash) -> CashOutcome:
        """Journal (or find) the operation for ``key`` and bring it to an end now, or raise ``CashNotDone``.

        ``storage.StorageFull`` only before the operation is journaled (a retry of a known key goes on).
        """
        if cash_journal.get_by_key(key) is None:
            storage.check_accepting("the cash operation was not accepted: retry once space is freed")
        accepted = cash_journal.accept(
            key,
            body,
            kind=kind.value,
            amount=validated.amount,
            cashier_name=validated.cashier_name,
            cashier_inn=validated.cashier_inn,
        )
        operation = accepted.operation
        if operation.response is not None:
            return _stored(operation)
        return self._drive(operation.id, replayed=not accepted.created)

    def settle(self) -> None:
        """Decide every operation in doubt from the KKT (admin reconcile, before a Z report)."""
        with self.session.lock:
            self.session.ensure_open()
            self.reconcile.settle_all()

    # --- under the session lock -----------------------------------------------------------------

    def _drive(self, operation_id: str, replayed: bool) -> CashOutcome:
        session = self.session
        if session.known_unreachable():
            self._not_done(operation_id, KktLinkError(session.health.snapshot().detail or "no answer"))
        if not session.lock.acquire(timeout=self.cfg.http.kkt_wait_seconds):
            self._not_done(operation_id, KktLinkError("the KKT is busy with other documents"))
        try:
            operation = cash_journal.get(operation_id)
            if operation.response is not None:  # a concurrent retry of the key finished it meanwhile
                return _stored(operation)
            try:
                session.ensure_open()
                self.reconciler.reconcile_all()  # a receipt in doubt may hold a document open in the KKT
                self.reconcile.settle_all()  # this operation's own doubt included
                operation = cash_journal.get(operation_id)
                if operation.status in ("done", "refused"):
                    return CashOutcome(operation, replayed)
                if operation.status == "sending":
                    raise CashNotDone(
                        f"whether the KKT recorded this {WHAT[operation.kind]} cannot be decided from its "
                        f"counters ({operation.last_error}): compare the KKT's X report with the POS session "
                        "and ring it again under a new key only if it is missing",
                        code="kkt_timeout",
                        operation_id=operation_id,
                    )
                return self._send(operation, replayed)
            except KktError as exc:
                session.note_error(exc)
                self._not_done(operation_id, exc)
        finally:
            session.lock.release()

    def _send(self, operation: CashOperation, replayed: bool) -> CashOutcome:
        device = self.session.device
        kind = CashKind(operation.kind)
        if not device.short_status().shift_open:
            if not self.cfg.kkt.auto_open_shift:
                cash_journal.mark_failed(operation.id, "no shift is open")
                raise CashNotDone(
                    "no shift is open and automatic shift opening is off: open the shift first",
                    code="shift_not_open",
                    operation_id=operation.id,
                )
            self.shifts.open_locked()
        fn = device.fn_status()
        if fn.open_document:
            # Left open by a crash or power loss mid-receipt: not signed, so cancelling loses nothing.
            log.warning("cancelling a receipt left open in the KKT (type %s)", fn.open_document)
            device.cancel_receipt()
        before = device.cash_counters()
        storage.retry_once_if_full(
            lambda: cash_journal.mark_sending(
                operation.id,
                fn_number=fn.fn_number,
                document_number_before=before.document_number,
                number_before=before.number(kind),
            )
        )
        try:
            document = (device.cash_in if kind is CashKind.IN else device.cash_out)(operation.amount)
        except KktInsufficientCash as exc:
            cash_journal.mark_refused(operation.id, exc.description, cash_in_drawer=read_drawer(device))
            self.session.health.set("ok", "")
            return CashOutcome(cash_journal.get(operation.id), replayed)
        except KktTimeout as exc:
            self.session.note_error(exc)
            return self._after_timeout(operation.id, exc, replayed)
        except (KktError, ValueError) as exc:  # refused by the device, or never sent: not recorded
            cash_journal.mark_failed(operation.id, str(exc))
            raise
        self.session.health.set("ok", "")
        drawer = read_drawer(device)
        try:
            storage.retry_once_if_full(
                lambda: cash_journal.mark_done(
                    operation.id,
                    document_number=document.document_number,
                    cash_in_drawer=drawer,
                    via="answer",
                )
            )
        except storage.StorageFull as exc:
            # The KKT recorded it: never an error answer. The row stays in doubt and the next cash
            # operation, Z report or retry decides it from the KKT's counters.
            log.critical(
                "%s %s recorded by the KKT but not journaled: %s", WHAT[kind.value], operation.id, exc
            )
            operation.status, operation.document_number = "done", document.document_number
            operation.cash_in_drawer = drawer
            return CashOutcome(operation, replayed)
        return CashOutcome(cash_journal.get(operation.id), replayed)

    def _after_timeout(self, operation_id: str, exc: KktTimeout, replayed: bool) -> CashOutcome:
        """The command went out and its answer did not come back: ask the KKT's counters right away."""
        cash_journal.note_doubt(operation_id, str(exc))
        try:
            self.session.ensure_open()
            self.reconcile.decide(cash_journal.get(operation_id))
        except KktError as again:
            self.session.note_error(again)
        operation = cash_journal.get(operation_id)
        if operation.status == "done":
            return CashOutcome(operation, replayed)
        if operation.status == "failed":
            raise CashNotDone(
                f"the KKT did not answer the {WHAT[operation.kind]} and, as its counters show, did not "
                "record it: retry with the same Idempotency-Key",
                code="kkt_unavailable",
                operation_id=operation_id,
            )
        self._not_done(operation_id, exc)

    def _not_done(self, operation_id: str, exc: Exception) -> NoReturn:
        """Raise the answer for an operation the KKT did not (or may not) record now; journal why."""
        operation = cash_journal.get(operation_id)
        what = WHAT[operation.kind]
        if operation.status == "sending":
            cash_journal.note_doubt(operation_id, str(exc))
            raise CashNotDone(
                f"whether the KKT recorded this {what} is not known yet ({exc}); it is decided from the "
                "KKT's counters once the KKT answers: retry with the same Idempotency-Key",
                code="kkt_timeout",
                operation_id=operation_id,
            )
        cash_journal.mark_failed(operation_id, str(exc))
        if isinstance(exc, KktDeviceError):
            raise CashNotDone(
                f"the KKT refused the {what}: {exc.description}",
                code="kkt_refused",
                operation_id=operation_id,
                device_code=exc.code,
            )
        raise CashNotDone(
            f"the KKT did not record the {what}: {exc}; retry with the same Idempotency-Key",
            code="kkt_unavailable",
            operation_id=operation_id,
        )


def _stored(operation: CashOperation) -> CashOutcome:
    return CashOutcome(operation, True, stored=(operation.status_code, json.loads(operation.response)))


class CashReconciler:
    """Decides from the KKT's counters whether a cash operation in doubt was recorded (under the lock)."""

    def __init__(self, session: DeviceSession):
        self.session = session

    def settle_all(self) -> None:
        """Decide every operation in doubt (call under the session's lock, the port open)."""
        for operation in cash_journal.in_doubt():
            self.decide(operation)

    def decide(self, operation: CashOperation) -> None:
        """Done, failed, or still in doubt with the reason, from the KKT's counters now."""
        device = self.session.device
        fn = device.fn_status()
        counters = device.cash_counters()
        kind = CashKind(operation.kind)
        now, before = counters.number(kind), operation.number_before
        if operation.fn_number and fn.fn_number != operation.fn_number:
            why = f"the FN changed from {operation.fn_number} to {fn.fn_number}"
        elif now == counters.next(before):
            document_number = counters.next(operation.document_number_before)
            cash_journal.mark_done(
                operation.id,
                document_number=document_number,
                cash_in_drawer=read_drawer(device),
                via="reconcile",
            )
            log.warning(
                "%s %s was recorded by the KKT (decided from its counters)", WHAT[kind.value], operation.id
            )
            return
        elif now == before:
            cash_journal.mark_failed(
                operation.id, f"not recorded by the KKT: its {WHAT[kind.value]} counter is still {now}"
            )
            return
        else:
            why = f"the KKT's {WHAT[kind.value]} counter moved from {before} to {now}"
        cash_journal.note_doubt(operation.id, why)


def read_drawer(device: FiscalDevice) -> int | None:
    """Kopecks in the KKT's drawer, or None when it cannot be read now (never fails the operation)."""
    try:
        return device.cash_in_drawer()
    except KktError as exc:
        log.warning("cash in the drawer not read: %s", exc)
        return None
