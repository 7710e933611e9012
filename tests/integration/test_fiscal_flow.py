"""Phase 1 end to end: HTTP -> journal -> Shtrih-M driver -> emulator on a real pty, with injected faults.

No mocks: the emulator runs as its own process (``kkt-emulator``) and the driver opens its pty exactly
like /dev/ttyUSB0. Every test ends by checking the two invariants: the FN journal holds each receipt at
most once, and every receipt's fiscal status can be re-derived from its events.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from kkt_adapter.buffer import events, journal
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.web import create_app
from tests.conftest import sale_body
from tests.integration.conftest import fast_kkt
from tests.kit import replay


@pytest.fixture
def emulator(kkt_emulator):
    return kkt_emulator


@pytest.fixture
def app(make_cfg, emulator):
    application = create_app(make_cfg(kkt=fast_kkt(emulator.port)), start_background=False)
    yield application
    application.extensions["kkt"].device.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service(app):
    return app.extensions["kkt"].service


def post(client, body, key):
    return client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})


def receipts_in_fn(emulator) -> list[dict]:
    return [d for d in emulator.control.journal() if d["type"] in (3, 31)]


def assert_invariants(emulator):
    counts = Counter(d["text"] for d in receipts_in_fn(emulator))
    assert all(n == 1 for n in counts.values()), f"printed twice: {counts}"
    for receipt in Receipt.select():
        events = [e.event_type for e in journal.events_for(receipt.id)]
        assert replay.replay_fiscal_status(events) == receipt.fiscal_status, events
        if receipt.fiscal_status == "printed":
            doc = next(d for d in receipts_in_fn(emulator) if d["fd"] == receipt.fd_number)
            assert doc["text"].endswith(receipt.id)
            assert doc["fp"] == receipt.fiscal_sign
            assert doc["total"] == receipt.total


def test_sale_is_printed_with_fn_data_and_events(client, emulator, new_key):
    resp = post(client, sale_body(buyer_contact="buyer@example.ru"), new_key())
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == "printed"
    fiscal = data["fiscal_doc"]
    doc = receipts_in_fn(emulator)[0]
    assert (fiscal["fd_number"], fiscal["fiscal_sign"]) == (doc["fd"], doc["fp"])
    assert fiscal["fn_number"] == doc["fn_number"]
    assert fiscal["total"] == "9400.00"
    assert {t["tag"] for t in doc["tlvs"]} >= {1008}
    assert [i["vat"] for i in doc["items"]] == [6, 11]
    events = [e.event_type for e in journal.events_for(data["receipt_id"])]
    assert events == ["receipt_added", "print_started", "receipt_printed"]
    assert emulator.control.journal()[0]["type"] == 2  # shift opened automatically first
    assert_invariants(emulator)


def test_same_key_replays_and_never_prints_again(client, emulator, new_key):
    key = new_key()
    first = post(client, sale_body(), key)
    second = post(client, sale_body(), key)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json()
    assert len(receipts_in_fn(emulator)) == 1
    assert_invariants(emulator)


def test_same_key_with_another_body_is_a_conflict(client, emulator, new_key):
    key = new_key()
    post(client, sale_body(), key)
    other = sale_body(payments=[{"method": "cash", "amount": "9400.00"}])
    resp = post(client, other, key)
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "idempotency_conflict"
    assert Receipt.select().count() == 1
    assert len(receipts_in_fn(emulator)) == 1


def test_answer_lost_after_print_is_reconciled_not_reprinted(client, emulator, new_key):
    emulator.control.fault("lost_answer", command="FF45")
    resp = post(client, sale_body(), new_key())
    data = resp.get_json()
    assert data["status"] == "printed"
    events = [e.event_type for e in journal.events_for(data["receipt_id"])]
    assert events == ["receipt_added", "print_started", "print_unknown", "reconciled_printed"]
    assert data["fiscal_doc"]["fd_number"] == receipts_in_fn(emulator)[0]["fd"]
    assert len(receipts_in_fn(emulator)) == 1
    assert_invariants(emulator)


def test_no_answer_means_not_printed_then_the_retry_prints_once(client, emulator, new_key):
    key = new_key()
    emulator.control.fault("no_answer", command="FF45")
    first = post(client, sale_body(), key).get_json()
    assert first["status"] == "buffered"
    assert receipts_in_fn(emulator) == []
    events = [e.event_type for e in journal.events_for(first["receipt_id"])]
    assert events[-1] == "reconciled_not_printed"
    again = post(client, sale_body(), key)
    assert again.get_json()["status"] == "printed"
    assert again.get_json()["receipt_id"] == first["receipt_id"]
    assert len(receipts_in_fn(emulator)) == 1
    assert_invariants(emulator)


def test_unplugged_kkt_buffers_and_prints_when_back(client, emulator, service, new_key):
    emulator.control.silent(True)
    data = post(client, sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    assert data["reason"]["code"] == "kkt_unreachable"
    started = time.monotonic()
    fast = post(client, sale_body(), new_key()).get_json()  # the KKT just failed: no second wait
    assert fast["status"] == "buffered"
    assert time.monotonic() - started < 0.3
    health = client.get("/v1/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["components"]["kkt"]["status"] == "unreachable"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'kkt_device_up{pos_id="test-till"} 0.0' in metrics
    assert 'kkt_receipts_not_printed{pos_id="test-till"} 2.0' in metrics
    emulator.control.silent(False)
    assert service.print_waiting() == 2
    assert journal.get_receipt(data["receipt_id"]).fiscal_status == "printed"
    assert client.get("/v1/health").get_json()["status"] == "healthy"
    assert_invariants(emulator)


def test_doubt_left_by_a_dead_link_is_settled_by_the_fn(client, emulator, service, new_key):
    # The receipt is signed, the answer is lost and the device then goes silent: the adapter cannot
    # reconcile in the request, so the receipt stays "printing" (in doubt) until the FN is asked.
    emulator.control.fault("power_loss", command="FF45", after_print=True, seconds=1.5)
    data = post(client, sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    assert journal.get_receipt(data["receipt_id"]).fiscal_status == "printing"
    assert len(receipts_in_fn(emulator)) == 1
    time.sleep(1.6)
    service.reconcile()
    receipt = journal.get_receipt(data["receipt_id"])
    assert receipt.fiscal_status == "printed"
    assert receipt.fd_number == receipts_in_fn(emulator)[0]["fd"]
    assert len(receipts_in_fn(emulator)) == 1
    assert_invariants(emulator)


def test_power_loss_mid_receipt_prints_once_after_recovery(client, emulator, service, new_key):
    emulator.control.fault("power_loss", command="FF46", seconds=1.0)
    key = new_key()
    data = post(client, sale_body(), key).get_json()
    assert data["status"] == "buffered"
    time.sleep(1.1)
    again = post(client, sale_body(), key).get_json()
    assert again["status"] == "printed"
    assert len(receipts_in_fn(emulator)) == 1
    assert_invariants(emulator)


def test_paper_out_buffers_with_reason_then_prints(client, emulator, service, new_key):
    post(client, sale_body(), new_key())  # shift open, link up
    emulator.control.paper(False)
    data = post(client, sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    assert data["reason"]["code"] == "kkt_paper_out"
    emulator.control.paper(True)
    assert service.print_waiting() == 1
    assert_invariants(emulator)


def test_shift_over_24h_waits_for_z_then_prints(client, emulator, service, new_key):
    post(client, sale_body(), new_key())
    emulator.control.advance(25 * 3600)
    data = post(client, sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    assert data["reason"]["code"] == "kkt_shift_expired"
    z = client.post("/v1/kkt/shift/close")
    assert z.status_code == 200
    assert service.print_waiting() == 1  # a new shift is opened automatically
    types = [d["type"] for d in emulator.control.journal()]
    assert types == [2, 3, 5, 2, 3]
    assert_invariants(emulator)


def test_buffer_capacity_answers_503_and_fill_level_is_readable(make_cfg, emulator, new_key):
    cfg = make_cfg(kkt={"port": emulator.port}, buffer={"capacity": 2})
    client = create_app(cfg, start_background=False).test_client()
    for _ in range(2):
        assert post(client, sale_body(), new_key()).status_code == 200
    full = post(client, sale_body(), new_key())
    assert full.status_code == 503
    assert full.mimetype == "application/problem+json"
    assert full.get_json()["code"] == "buffer_full"
    status = client.get("/v1/kkt/buffer/status").get_json()
    assert status["percent_full"] == 100.0
    assert status["current_queued"] == status["total_capacity"] == 2
    assert Receipt.select().count() == 2


def test_shift_and_report_endpoints(client, emulator):
    assert client.post("/v1/kkt/shift/close").get_json()["code"] == "shift_not_open"
    opened = client.post("/v1/kkt/shift/open")
    assert opened.status_code == 200
    assert client.post("/v1/kkt/shift/open").status_code == 409
    assert client.post("/v1/kkt/report/x").get_json()["report"] == "X"
    fn = client.get("/v1/kkt/fn").get_json()
    assert fn["shift_open"] is True
    assert fn["last_fd"] == opened.get_json()["fd_number"]
    closed = client.post("/v1/kkt/shift/close").get_json()
    assert closed["fd_number"] == opened.get_json()["fd_number"] + 1
    events = [json.loads(e.metadata or "{}") for e in journal.BufferEvent.select()]
    assert [m.get("fd_number") for m in events if "shift_number" in m and "fd_number" in m] == [
        opened.get_json()["fd_number"],
        closed["fd_number"],
    ]


def test_refund_of_an_undelivered_sale_is_409_and_journals_nothing(client, emulator, new_key):
    sale = post(client, sale_body(), new_key()).get_json()
    refund = post(client, sale_body(type="refund", original_receipt_id=sale["receipt_id"]), new_key())
    assert refund.status_code == 409
    assert refund.get_json()["code"] == "original_not_delivered"
    assert Receipt.select().count() == 1
    assert len(receipts_in_fn(emulator)) == 1


def test_correction_and_sale_return_are_fiscalized_with_their_settlement(client, emulator, new_key):
    post(client, sale_body(), new_key())
    refused = post(client, sale_body(type="refund"), new_key())  # a return must name its sale
    assert refused.status_code == 422
    assert "original_receipt_id" in [e["field"] for e in refused.get_json()["errors"]]
    refund = sale_body(
        type="correction", correction={"type": 0, "basis_date": "2026-11-20", "settlement": "refund"}
    )
    post(client, refund, new_key())  # a sale return fixed by a correction receipt
    corr = sale_body(
        type="correction", correction={"type": 1, "basis_date": "2026-11-20", "basis_number": "7"}
    )
    assert post(client, corr, new_key()).get_json()["status"] == "printed"
    docs = receipts_in_fn(emulator)
    assert [(d["type"], d["settlement"]) for d in docs] == [(3, 1), (31, 2), (31, 1)]
    assert {t["tag"] for t in docs[2]["tlvs"]} >= {1173, 1174}
    assert_invariants(emulator)


def test_a_sale_printed_late_is_fiscalized_as_a_correction(make_cfg, emulator, new_key):
    cfg = make_cfg(kkt={"port": emulator.port}, receipt={"late_after_seconds": 0.0})
    application = create_app(cfg, start_background=False)
    emulator.control.silent(True)
    data = post(application.test_client(), sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    emulator.control.silent(False)
    time.sleep(0.01)
    assert application.extensions["kkt"].service.print_waiting() == 1
    doc = receipts_in_fn(emulator)[0]
    assert (doc["type"], doc["settlement"]) == (31, 1)
    correction_type = next(t for t in doc["tlvs"] if t["tag"] == 1173)
    assert correction_type["value"] == 0  # own initiative
    application.extensions["kkt"].device.close()


def test_restart_keeps_hlc_monotonic_and_replays(make_cfg, emulator, new_key):
    cfg = make_cfg(kkt={"port": emulator.port})
    key = new_key()
    app1 = create_app(cfg, start_background=False)
    first = post(app1.test_client(), sale_body(), key).get_json()
    app1.extensions["kkt"].device.close()
    before = events.current_hlc()
    app2 = create_app(cfg, start_background=False)  # same database: an adapter restart
    again = post(app2.test_client(), sale_body(), key).get_json()
    assert again == first
    post(app2.test_client(), sale_body(), new_key())
    assert events.current_hlc() > before
    hlcs = [e.hlc for e in journal.BufferEvent.select().order_by(journal.BufferEvent.id)]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    app2.extensions["kkt"].device.close()


def test_kkt_refusing_the_receipt_data_rejects_it_for_good(client, emulator, service, new_key):
    post(client, sale_body(), new_key())
    key = new_key()
    emulator.control.fault("refuse", command="FF46", code=0x33)  # "incorrect command parameters"
    resp = post(client, sale_body(), key)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert problem["code"] == "kkt_rejected"
    assert "parameters" in problem["detail"]
    assert post(client, sale_body(), key).get_json() == problem  # replayed, never retried
    receipt = journal.get_receipt(problem["receipt_id"])
    assert receipt.fiscal_status == "rejected"
    assert service.print_waiting() == 0  # not retried, and it does not block the receipts after it
    assert post(client, sale_body(), new_key()).get_json()["status"] == "printed"
    assert len(receipts_in_fn(emulator)) == 2
    assert emulator.control.state()["receipt"] is None  # the half-built receipt was cancelled
    assert_invariants(emulator)


def test_a_device_condition_error_keeps_the_receipt_for_retry(client, emulator, service, new_key):
    post(client, sale_body(), new_key())
    emulator.control.fault("refuse", command="FF45", code=0x30)  # "FN: FN does not answer"
    data = post(client, sale_body(), new_key()).get_json()
    assert data["status"] == "buffered"
    assert journal.get_receipt(data["receipt_id"]).fiscal_status == "accepted"
    assert service.print_waiting() == 1
    assert_invariants(emulator)


def test_a_replugged_kkt_is_reopened_and_nothing_fails_with_500(client, emulator, service, new_key):
    assert post(client, sale_body(), new_key()).get_json()["status"] == "printed"
    emulator.restart()  # the device behind the path is new: the old handle is dead (USB re-plug)
    answers = [post(client, sale_body(), new_key()) for _ in range(2)]
    assert all(a.status_code == 200 for a in answers), [a.get_data(as_text=True) for a in answers]
    time.sleep(0.6)  # past the retry interval: the next attempt opens the port afresh
    service.print_waiting()
    assert Receipt.select().where(Receipt.fiscal_status == "printed").count() == 3
    assert_invariants(emulator)
