"""Sending receipts to Odoo again after the central server lost them (a restore from backup; issue 19).

The till's journal is the source of truth of its fiscal documents; Odoo's copy depends on the central
server's backups. Restored to a point in the past, Odoo has lost every receipt it recorded after that point,
while the journal keeps their Odoo legs ``delivered``. The heartbeat (sync/heartbeat.py, contract in
docs/api/odoo-till-contract.md) finds them and sends them again, with no operator at the till:

1. ``fiscal_check`` — what the heartbeat asks: the FNs with delivered Odoo legs (at most ``MAX_FNS``, the
   newest first), each with ``from_fd``, the lowest FD among its legs delivered in the last
   ``WINDOW_SECONDS`` (its highest delivered FD when none were). Odoo answers per FN the highest FD it holds
   (``max_fd``) and how many documents it holds from ``from_fd`` on (``count``): two index lookups on its
   UNIQUE(fn_number, fd), however many documents the FN holds.
2. ``requeue_missing`` — what the till does with the answer, per FN, looking only at the legs marked
   delivered *before the heartbeat left* (``delivered_at < delivered_before``; Odoo commits a batch before
   it answers 2xx, so such a leg is surely in Odoo's numbers unless Odoo lost it; ``delivered_at`` is whole
   seconds, so the second the heartbeat left is excluded too):

   - a leg with an FD above ``max_fd`` is missing for sure;
   - if Odoo holds fewer documents in ``[from_fd, max_fd]`` than the journal delivered there, some below
     ``max_fd`` are missing too (delivered out of FD order: a receipt printed late, a leg that waited in
     its backoff or the DLQ). Which ones the numbers do not say, so the legs of the range are sent again,
     the longest delivered first: Odoo answers ``duplicate`` for those it holds (harmless), the missing
     ones are ``created``. A leg sent again is delivered anew, so the next heartbeats move on to the rest
     of the range until the counts agree — no state is kept beyond the journal's own ``delivered_at``.

   The window bounds the cost of both sides: a restore point older than ``WINDOW_SECONDS`` still gets
   every leg above ``max_fd`` back, only the out-of-order gaps older than the window are not looked for.

A leg sent again goes back to ``pending``, due at once, with its attempts cleared, in one write
transaction with an ``odoo_redelivery_queued`` event per leg and the ``kkt_odoo_redeliveries_total``
counter; its receipt goes back from ``synced`` to ``pending`` (``deliveries.refresh_receipt``). Only
``delivered`` legs are candidates, so heartbeats arriving while the legs are on their way never queue them
twice. The OFD legs are never touched. Two guards:

- **The till keeps selling.** Pending receipts fill the buffer, and a full buffer refuses sales
  (``journal.BufferFull``); a heartbeat sends back at most what keeps the queue within ``BUFFER_SHARE`` of
  the capacity, the next heartbeats send the rest (a restore losing a week of receipts takes a few rounds).
- **A refund never arrives before its sale.** Odoo rejects a refund of a sale it does not hold (a DLQ
  entry); the sale's delivered leg goes back with its refund, and the runner sends in HLC order, sale first.

Where the numbers can hide a gap for a while (Odoo holds documents the journal has not marked delivered
yet: an answer lost on the way, a leg in the DLQ), the gap shows once those legs are marked; a gap is never
invented — at worst a document Odoo holds is sent again and answered ``duplicate``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import fn

from kkt_adapter.buffer.connection import database, write_transaction
from kkt_adapter.buffer.deliveries import add_counter, refresh_receipt
from kkt_adapter.buffer.events import add_event
from kkt_adapter.buffer.journal import QUEUED
from kkt_adapter.buffer.models import Delivery, Receipt

#: FNs asked about per heartbeat, the newest first (a till replaces its FN every 15–36 months).
MAX_FNS = 4
#: How far back the gaps below Odoo's highest FD are looked for: well past the central server's RPO (24 h).
WINDOW_SECONDS = 14 * 86400
#: A heartbeat re-queues no more than keeps the buffer's queue within this share of its capacity.
BUFFER_SHARE = 0.5
COUNTER = "kkt_odoo_redeliveries_total"


@dataclass(frozen=True)
class FnCheck:
    """One ``fiscal_check`` entry of the heartbeat."""

    fn_number: str
    from_fd: int

    def as_json(self) -> dict[str, str | int]:
        return {"fn_number": self.fn_number, "from_fd": self.from_fd}


@dataclass(frozen=True)
class OdooHolds:
    """Odoo's answer for one FN: its highest FD (0 = none) and its documents from ``from_fd`` on."""

    from_fd: int
    max_fd: int
    count: int


@dataclass(frozen=True)
class Requeued:
    """What one heartbeat's answer sent back to pending for one FN."""

    fn_number: str
    holds: OdooHolds
    delivered: int  # legs the journal delivered in [from_fd, max_fd] before the heartbeat left
    above: int  # legs above Odoo's highest FD
    below: int  # legs of [from_fd, max_fd] sent again because Odoo holds fewer there
    originals: int = 0  # sales sent again with their refunds (any FN)

    @property
    def total(self) -> int:
        return self.above + self.below + self.originals


def _delivered_legs(fn_number: str):
    return Delivery.select().where(
        Delivery.target == "odoo", Delivery.fn_number == fn_number, Delivery.status == "delivered"
    )


#: The FN numbers of the Odoo legs, one index seek per FN on (target, fn_number, fd) instead of reading
#: every leg (a till's journal is never pruned: years of legs, a handful of FNs).
_FNS_SQL = """
WITH RECURSIVE fns(fn_number) AS (
    SELECT min(fn_number) FROM deliveries WHERE target = 'odoo'
    UNION ALL
    SELECT (SELECT min(fn_number) FROM deliveries WHERE target = 'odoo' AND fn_number > fns.fn_number)
    FROM fns WHERE fns.fn_number IS NOT NULL
)
SELECT fn_number FROM fns WHERE fn_number IS NOT NULL
"""


def fiscal_check(now: float | None = None) -> list[FnCheck]:
    """What the heartbeat asks Odoo about (empty when no Odoo leg was delivered yet).

    The FNs are ordered by their highest FD's leg, the latest journaled first; ``from_fd`` reads only the
    legs of the window (index on target, fn_number, delivered_at: schema v6)."""
    now = time.time() if now is None else now
    newest = {}
    for (fn_number,) in database.execute_sql(_FNS_SQL).fetchall():
        last = _legs(fn_number).order_by(Delivery.fd.desc()).first()
        newest[fn_number] = last.id
    checks = []
    for fn_number in sorted(newest, key=newest.get, reverse=True):
        legs = _delivered_legs(fn_number)
        recent = legs.where(Delivery.delivered_at >= int(now - WINDOW_SECONDS))
        # fd + 0: not SQLite's min() through the FD index, which would read the FN's legs from its first.
        from_fd = recent.select(fn.MIN(Delivery.fd + 0)).scalar()
        if from_fd is None:
            last_delivered = legs.order_by(Delivery.fd.desc()).first()
            if last_delivered is None:
                continue  # nothing of this FN delivered yet: nothing Odoo could have lost
            from_fd = last_delivered.fd
        checks.append(FnCheck(fn_number, int(from_fd)))
        if len(checks) == MAX_FNS:
            break
    return checks


def _legs(fn_number: str):
    return Delivery.select(Delivery.id, Delivery.fd).where(
        Delivery.target == "odoo", Delivery.fn_number == fn_number
    )


def requeue_missing(
    checks: Iterable[FnCheck], answers: dict[str, OdooHolds], delivered_before: int, capacity: int
) -> list[Requeued]:
    """Send back to pending the delivered legs Odoo's answer says it lost; one entry per FN that had any.

    ``checks`` is what the heartbeat asked (FNs Odoo did not answer, or was not asked about, are left
    alone); ``delivered_before`` the whole second the heartbeat left in; ``capacity`` the buffer's."""
    done: list[Requeued] = []
    with write_transaction():
        queued = Receipt.select().where(Receipt.status.in_(QUEUED), Receipt.fiscal_status != "rejected")
        budget = max(0, int(capacity * BUFFER_SHARE) - queued.count())
        for check in checks:
            holds = answers.get(check.fn_number)
            if holds is None or budget <= 0:
                continue
            legs = _delivered_legs(check.fn_number).where(Delivery.delivered_at < delivered_before)
            above = list(legs.where(Delivery.fd > holds.max_fd).order_by(Delivery.fd).limit(budget))
            in_range = legs.where(Delivery.fd >= holds.from_fd, Delivery.fd <= holds.max_fd)
            delivered = in_range.count()
            below = []
            if holds.count < delivered and budget > len(above):
                sweep = in_range.order_by(Delivery.delivered_at, Delivery.fd)
                below = list(sweep.limit(budget - len(above)))
            if not above and not below:
                continue
            originals = _originals([*above, *below])
            for reason, rows in (
                ("above_max_fd", above),
                ("count_short", below),
                ("refund_original", originals),
            ):
                _requeue(rows, reason, holds)
            budget -= len(above) + len(below) + len(originals)
            done.append(Requeued(check.fn_number, holds, delivered, len(above), len(below), len(originals)))
        if done:
            add_counter(COUNTER, "", float(sum(r.total for r in done)))
    return done


def _originals(rows: list[Delivery]) -> list[Delivery]:
    """The delivered Odoo legs of the sales that the refunds among ``rows`` return (of any FN)."""
    receipt_ids = [r.receipt_id for r in rows if r.receipt_id]
    sales = Receipt.select(Receipt.original_receipt).where(
        Receipt.id.in_(receipt_ids), Receipt.original_receipt.is_null(False)
    )
    return list(
        Delivery.select().where(
            Delivery.target == "odoo",
            Delivery.status == "delivered",
            Delivery.receipt.in_(sales),
            Delivery.id.not_in([r.id for r in rows]),
        )
    )


def _requeue(rows: list[Delivery], reason: str, holds: OdooHolds) -> None:
    """Back to pending, due now, attempts cleared; an event per leg; the receipts' statuses derived."""
    if not rows:
        return
    Delivery.update(
        status="pending",
        next_attempt_at=0.0,
        attempts=0,
        last_error=None,
        delivered_at=None,
        lease_owner=None,
        lease_until=None,
    ).where(Delivery.id.in_([r.id for r in rows]), Delivery.status == "delivered").execute()
    for row in rows:
        add_event(
            "odoo_redelivery_queued",
            row.receipt_id,
            fn_number=row.fn_number,
            fd=row.fd,
            reason=reason,
            odoo_max_fd=holds.max_fd,
            odoo_count=holds.count,
        )
        refresh_receipt(row.receipt_id)
