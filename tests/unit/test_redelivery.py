"""Re-delivery to Odoo after a restore of the central server (buffer/redelivery.py), at the buffer level.

Receipts go through the journal's real path (accepted, printing, printed, both legs captured and
delivered); the heartbeat's answer is given as ``OdooHolds``. The tests check which legs go back to
pending for a given answer, the margin on ``delivered_at``, the statuses, events and counter, the budget
that keeps the till selling, that a refund takes its sale along, and that an answer seen twice queues
nothing twice. The heartbeat and the stand-in around it: tests/integration/test_redelivery.py.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from kkt_adapter.buffer import db as buffer_db
from kkt_adapter.buffer import deliveries, events, journal, redelivery
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.models import BufferEvent, Delivery, Receipt
from kkt_adapter.buffer.redelivery import FnCheck, OdooHolds
from kkt_adapter.sync.clients import _fiscal_documents
from tests.kit import replay

FN = "9999000000000042"
OLD_FN = "9999000000000041"
T0 = 1_800_000_000  # delivered_at of the first legs (whole seconds, as the journal writes it)
NOW = T0 + 3600  # the heartbeat left at this second
TYPED = {"settlement": 1, "taxation_system": 1, "cash": 0, "electronic": 100}
LINES = [
    {"name": "Футляр", "price": 100, "quantity_micro": 1_000_000, "amount": 100, "vat": 6,
     "payment_method": 4, "payment_subject": 1, "measure_unit": 0, "department": 1}
]  # fmt: skip
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "field-buffer-v2"


@pytest.fixture(autouse=True)
def buffer(tmp_path):
    db = buffer_db.open_database(str(tmp_path / "buffer.db"))
    yield db
    db.close()


def printed(fn: str, fd: int, *, kind: str = "sale", original: str | None = None) -> str:
    """A receipt printed as FD ``fd`` of ``fn``, its OFD and Odoo legs queued; returns its id."""
    accepted = journal.accept_receipt(
        str(uuid.uuid4()),
        {"fd": fd, "fn": fn},
        pos_id="t",
        kind=kind,
        total=100,
        capacity=10_000,
        typed=TYPED,
        lines=LINES,
        original_receipt_id=original,
    )
    receipt_id = accepted.receipt.id
    journal.start_print(receipt_id, fd - 1, fn)
    journal.mark_printed(
        receipt_id,
        fn_number=fn,
        fd_number=fd,
        fiscal_sign=fd,
        fiscal_datetime="2026-12-06T10:00:00",
        shift_number=1,
        via="print",
    )
    deliveries.capture_fn_document(fn, fd, 3, b"document")
    return receipt_id


def deliver_all(at: int) -> None:
    """Deliver every pending leg (both targets) and date the deliveries ``at``."""
    for target in ("ofd", "odoo"):
        rows = deliveries.lease(target, "runner", 10_000, 60.0)
        for row in rows:
            assert deliveries.delivered(row.id, "runner")
        Delivery.update(delivered_at=at).where(Delivery.id.in_([r.id for r in rows])).execute()


def sell(fn: str, fds: range, at: int = T0) -> dict[int, str]:
    ids = {fd: printed(fn, fd) for fd in fds}
    deliver_all(at)
    return ids


def odoo_legs(status: str = "pending") -> list[int]:
    rows = Delivery.select().where(Delivery.target == "odoo", Delivery.status == status).order_by(Delivery.fd)
    return [row.fd for row in rows]


def redelivery_events() -> list[dict]:
    rows = (
        BufferEvent.select()
        .where(BufferEvent.event_type == "odoo_redelivery_queued")
        .order_by(BufferEvent.id)
    )
    return [json.loads(row.metadata) for row in rows]


def counter() -> float:
    return {(c.name, c.labels): c.value for c in deliveries.counters()}.get((redelivery.COUNTER, ""), 0.0)


def requeue(holds: dict[str, OdooHolds], before: int = NOW, capacity: int = 200, checks=None):
    checks = checks if checks is not None else [FnCheck(fn, h.from_fd) for fn, h in holds.items()]
    return redelivery.requeue_missing(checks, holds, before, capacity)


# ---- what the heartbeat asks --------------------------------------------------------------------


def test_the_check_names_the_newest_fns_with_the_lowest_fd_delivered_in_the_window():
    assert redelivery.fiscal_check(NOW) == []  # nothing delivered: the heartbeat carries no check
    old = T0 - redelivery.WINDOW_SECONDS - 60
    sell(OLD_FN, range(1, 4), at=old)  # an FN replaced long ago: delivered before the window
    sell(FN, range(1, 3), at=old)
    sell(FN, range(3, 6), at=T0)
    printed(FN, 6)  # printed, not delivered: not part of the check
    assert redelivery.fiscal_check(NOW) == [FnCheck(FN, 3), FnCheck(OLD_FN, 3)]
    for n in range(5):  # more FNs than a heartbeat asks about: the newest
        sell(f"99990000000001{n:02d}", range(1, 2))
    checks = redelivery.fiscal_check(NOW)
    assert [c.fn_number for c in checks] == [f"99990000000001{n:02d}" for n in (4, 3, 2, 1)]
    assert len(checks) == redelivery.MAX_FNS


# ---- the answer: which legs go back -------------------------------------------------------------


def test_nothing_goes_back_while_odoo_holds_everything():
    sell(FN, range(1, 6))
    assert requeue({FN: OdooHolds(1, 5, 5)}) == []
    assert requeue({FN: OdooHolds(3, 7, 9)}) == []  # Odoo holds more than the journal delivered: fine
    assert odoo_legs("delivered") == [1, 2, 3, 4, 5] and redelivery_events() == [] and counter() == 0
    assert {r.status for r in Receipt.select()} == {"synced"}


def test_the_legs_above_odoos_last_fd_go_back_to_pending_due_now():
    ids = sell(FN, range(1, 7))
    [done] = requeue({FN: OdooHolds(1, 3, 3)})
    assert (done.above, done.below, done.originals, done.delivered) == (3, 0, 0, 3)
    assert odoo_legs("pending") == [4, 5, 6] and odoo_legs("delivered") == [1, 2, 3]
    for row in Delivery.select().where(Delivery.target == "odoo", Delivery.status == "pending"):
        assert (row.next_attempt_at, row.attempts, row.delivered_at, row.lease_owner) == (0.0, 0, None, None)
    assert deliveries.due_count(now=NOW) == 3  # due at once
    assert Delivery.select().where(Delivery.target == "ofd", Delivery.status != "delivered").count() == 0
    statuses = {fd: Receipt.get_by_id(ids[fd]).status for fd in ids}
    assert statuses == {1: "synced", 2: "synced", 3: "synced", 4: "pending", 5: "pending", 6: "pending"}
    assert Receipt.get_by_id(ids[4]).synced_at is None
    assert [(e["fd"], e["reason"], e["odoo_max_fd"], e["odoo_count"]) for e in redelivery_events()] == [
        (4, "above_max_fd", 3, 3),
        (5, "above_max_fd", 3, 3),
        (6, "above_max_fd", 3, 3),
    ]
    assert counter() == 3
    for receipt_id in ids.values():  # the events still tell each receipt's status
        event_types = [e.event_type for e in journal.events_for(receipt_id)]
        assert replay.replay_sync_status(event_types) == Receipt.get_by_id(receipt_id).status


def test_odoo_without_any_document_of_the_fn_gets_them_all_back():
    sell(FN, range(1, 4))
    [done] = requeue({FN: OdooHolds(1, 0, 0)})
    assert (done.above, done.below) == (3, 0) and odoo_legs("pending") == [1, 2, 3]


def test_a_second_identical_answer_queues_nothing_more():
    sell(FN, range(1, 7))
    requeue({FN: OdooHolds(1, 3, 3)})
    before = (odoo_legs("pending"), len(redelivery_events()), counter())
    assert requeue({FN: OdooHolds(1, 3, 3)}) == []  # the pending legs are on their way: not candidates
    assert (odoo_legs("pending"), len(redelivery_events()), counter()) == before


def test_legs_delivered_in_the_second_the_heartbeat_left_are_not_judged():
    sell(FN, range(1, 4), at=T0)
    sell(FN, range(4, 5), at=NOW)  # may have been marked after the request left: Odoo may not count it
    assert requeue({FN: OdooHolds(1, 3, 3)}, before=NOW) == []
    assert requeue({FN: OdooHolds(1, 3, 3)}, before=NOW + 1)[0].above == 1
    assert odoo_legs("pending") == [4]


def test_fewer_documents_below_odoos_last_fd_send_the_range_again_longest_delivered_first():
    sell(FN, range(1, 3), at=T0 - 10)  # before the window's from_fd: not judged
    sell(FN, range(6, 9), at=T0)
    sell(FN, range(3, 6), at=T0 + 5)  # printed earlier, delivered later (out of FD order)
    [done] = requeue({FN: OdooHolds(3, 8, 5)}, capacity=8)  # Odoo lost one of FD 3..8; budget 4
    assert (done.delivered, done.above, done.below) == (6, 0, 4)
    assert odoo_legs("pending") == [3, 6, 7, 8]  # FD 6..8 were delivered first, then FD 3
    assert {e["reason"] for e in redelivery_events()} == {"count_short"}
    # The runner sends them again (Odoo answers duplicate or created): delivered anew, later.
    deliver_all(T0 + 100)
    [again] = requeue({FN: OdooHolds(3, 8, 5)}, capacity=8, before=T0 + 101)  # still one short
    assert odoo_legs("pending") == [3, 4, 5, 6]  # FD 4, 5 not sent again yet, then the longest delivered
    assert again.below == 4 and counter() == 8
    deliver_all(T0 + 200)
    assert requeue({FN: OdooHolds(3, 8, 6)}, capacity=8, before=T0 + 201) == []  # the gap was filled


def test_the_budget_keeps_half_of_the_buffer_for_the_days_sales():
    sell(FN, range(1, 11))
    for fd in (11, 12, 13):
        printed(FN, fd)  # printed, not delivered yet: they occupy the buffer already
    [done] = requeue({FN: OdooHolds(1, 4, 4)}, capacity=10)  # half of 10, less 3 queued
    assert done.above == 2 and odoo_legs("pending") == [5, 6, 11, 12, 13]  # the lowest FDs first
    assert requeue({FN: OdooHolds(1, 4, 4)}, capacity=6) == []  # the queue is over half: none this time
    deliver_all(T0 + 10)
    [rest] = requeue({FN: OdooHolds(1, 6, 6)}, capacity=10, before=T0 + 11)
    assert rest.above == 5 and odoo_legs("pending") == [7, 8, 9, 10, 11]


def test_a_refund_goes_back_with_its_sale_whatever_the_fn():
    ids = sell(OLD_FN, range(1, 3))
    sell(FN, range(1, 3))
    refund = printed(FN, 3, kind="refund", original=ids[2])
    deliver_all(T0 + 5)
    [done] = requeue({FN: OdooHolds(1, 2, 2)}, checks=[FnCheck(FN, 1)])
    assert (done.above, done.originals, done.total) == (1, 1, 2)
    pending = Delivery.select().where(Delivery.target == "odoo", Delivery.status == "pending")
    assert {(row.fn_number, row.fd) for row in pending} == {(FN, 3), (OLD_FN, 2)}
    assert sorted(pending, key=lambda row: row.hlc)[0].receipt_id == ids[2]  # the runner sends the sale first
    assert [e["reason"] for e in redelivery_events()] == ["above_max_fd", "refund_original"]
    assert Receipt.get_by_id(refund).status == "pending" and counter() == 2


def test_only_fns_asked_and_answered_are_judged():
    sell(FN, range(1, 4))
    sell(OLD_FN, range(1, 4))
    answers = {FN: OdooHolds(1, 1, 1), OLD_FN: OdooHolds(1, 1, 1)}
    assert requeue(answers, checks=[]) == []  # an answer nobody asked for
    assert requeue({}, checks=[FnCheck(FN, 1)]) == []  # a question Odoo did not answer
    [done] = requeue(answers, checks=[FnCheck(OLD_FN, 1)])
    assert done.fn_number == OLD_FN and odoo_legs("pending") == [2, 3]


def test_dlq_and_pending_legs_are_never_candidates():
    sell(FN, range(1, 3))
    printed(FN, 3)
    [row] = deliveries.lease("odoo", "runner", 10, 60.0)
    deliveries.failed_permanent(row.id, "runner", "rejected")
    printed(FN, 4)  # pending
    assert requeue({FN: OdooHolds(1, 0, 0)})[0].above == 2
    assert odoo_legs("failed") == [3] and odoo_legs("pending") == [1, 2, 4]


# ---- the answer as the client reads it, the schema ---------------------------------------------


def test_the_client_keeps_only_well_formed_answers():
    answer = {
        FN: {"from_fd": 3, "max_fd": 8, "count": 5},
        OLD_FN: {"from_fd": 1, "max_fd": "8", "count": 5},
        "x": {"from_fd": 1, "max_fd": 8},
        "y": [1, 2],
        "z": {"from_fd": True, "max_fd": 0, "count": 0},
    }
    assert _fiscal_documents(answer) == {FN: OdooHolds(3, 8, 5)}
    assert _fiscal_documents(None) == {} and _fiscal_documents([answer]) == {}


def test_a_buffer_written_by_an_older_adapter_takes_the_new_event(tmp_path, buffer):
    buffer.close()
    copy = tmp_path / "field.db"
    shutil.copyfile(FIXTURE / "buffer.db", copy)
    upgraded = buffer_db.open_database(str(copy))
    try:
        with write_transaction():
            events.add_event("odoo_redelivery_queued", None, fn_number=FN, fd=1)
        assert redelivery_events() == [{"fn_number": FN, "fd": 1}]
        indexes = {index.name for index in upgraded.get_indexes("deliveries")}
        assert "deliveries_target_fn_number_delivered_at" in indexes  # the fiscal check's window
    finally:
        upgraded.close()
