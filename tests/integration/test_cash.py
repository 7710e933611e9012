"""Cash in / cash out end to end: HTTP -> journal -> Shtrih-M driver (50 / 51, 1A, 1B) -> emulator on a pty.

No mocks: the emulator runs as its own process and keeps its own journal of the cash documents it recorded
(``control.cash_journal()``). Every test ends by checking the invariant that matters: the KKT recorded
each operation at most once, and every operation the adapter calls done is in the KKT's journal with the
same document number.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from kkt_adapter.buffer import cash as cash_journal
from kkt_adapter.buffer.models import CashOperation
from kkt_adapter.kkt.errors import KktInsufficientCash
from kkt_adapter.web import create_app
from tests.conftest import sale_body

KKT = {
    "answer_timeout": 0.6,
    "enq_timeout": 0.1,
    "ack_timeout": 0.2,
    "attempts": 3,
    "retry_interval_seconds": 0.5,
}

#: Seconds a KKT stays dead after a power loss: longer than the adapter's answer timeout, its ENQ recovery
#: and a reopen of the port together, so the adapter cannot ask the KKT within the request.
DEAD = 3.0


@pytest.fixture
def emulator(kkt_emulator):
    return kkt_emulator


@pytest.fixture
def make_app(make_cfg, emulator):
    """``make_app()`` builds an adapter on the test's buffer (a second call = the adapter restarted)."""
    apps = []

    def make(**kkt):
        app = create_app(make_cfg(kkt={"port": emulator.port, **KKT, **kkt}), start_background=False)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["kkt"].device.close()


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def cash(client, kind: str, amount, key: str, **body):
    return client.post(
        f"/v1/kkt/cash/{kind}", json={"amount": amount, **body}, headers={"Idempotency-Key": key}
    )


def assert_recorded_once(emulator):
    """Each done operation is in the KKT's cash journal once, with its document number and amount."""
    records = emulator.control.cash_journal()
    done = list(CashOperation.select().where(CashOperation.status == "done"))
    assert len(records) == len(done), (records, [(o.kind, o.amount) for o in done])
    by_number = {r["document_number"]: r for r in records}
    assert len(by_number) == len(records)
    for op in done:
        record = by_number[op.document_number]
        assert (record["kind"], record["amount"]) == (f"cash_{op.kind}", op.amount)


def test_cash_in_then_cash_out_are_recorded_with_the_drawer(client, emulator, new_key):
    sale = sale_body(payments=[{"method": "cash", "amount": "9400.00"}])
    assert (
        client.post("/v1/kkt/receipt", json=sale, headers={"Idempotency-Key": new_key()}).status_code == 200
    )
    resp = cash(client, "in", "500.00", new_key(), cashier={"name": "Иванова Анна", "inn": "500100732259"})
    assert resp.status_code == 200 and "Idempotent-Replayed" not in resp.headers
    body = resp.get_json()
    assert body == {
        "operation_id": body["operation_id"],
        "kind": "in",
        "amount": "500.00",
        "status": "done",
        "document_number": 3,  # shift opened (1), the sale (2), the cash in (3)
        "cash_in_drawer": "9900.00",
    }
    out = cash(client, "out", 9900, new_key()).get_json()
    assert (out["kind"], out["amount"], out["document_number"], out["cash_in_drawer"]) == (
        "out",
        "9900.00",
        4,
        "0.00",
    )
    assert [(r["kind"], r["amount"]) for r in emulator.control.cash_journal()] == [
        ("cash_in", 50_000),
        ("cash_out", 990_000),
    ]
    op = cash_journal.get(body["operation_id"])
    assert (op.cashier_name, op.cashier_inn, op.attempts) == ("Иванова Анна", "500100732259", 1)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'kkt_cash_operations_total{kind="in",outcome="done",pos_id="test-till"} 1.0' in metrics
    assert_recorded_once(emulator)


def test_same_key_replays_and_another_body_conflicts(client, emulator, new_key):
    key = new_key()
    first = cash(client, "in", "100.00", key)
    again = cash(client, "in", "100.00", key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    for kind, amount in (("in", "100.01"), ("out", "100.00")):
        conflict = cash(client, kind, amount, key)
        assert conflict.status_code == 422 and conflict.get_json()["code"] == "idempotency_conflict"
    assert len(emulator.control.cash_journal()) == 1
    assert_recorded_once(emulator)


def test_insufficient_cash_is_refused_for_good_and_replayed(client, emulator, new_key):
    cash(client, "in", "100.00", new_key())
    key = new_key()
    refused = cash(client, "out", "150.00", key)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert (problem["code"], problem["amount"], problem["cash_in_drawer"]) == (
        "insufficient_cash",
        "150.00",
        "100.00",
    )
    assert cash_journal.get(problem["operation_id"]).status == "refused"
    cash(client, "in", "100.00", new_key())  # now there would be enough: the answer stays final
    again = cash(client, "out", "150.00", key)
    assert again.status_code == 409 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == refused.get_data()
    assert [r["kind"] for r in emulator.control.cash_journal()] == ["cash_in", "cash_in"]
    assert_recorded_once(emulator)


def test_unplugged_kkt_records_nothing_and_the_retry_records_once(client, emulator, new_key):
    cash(client, "in", "10.00", new_key())  # shift open, link up
    emulator.control.silent(True)
    key = new_key()
    resp = cash(client, "in", "500.00", key)
    assert resp.status_code == 503 and resp.get_json()["code"] == "kkt_unavailable"
    assert cash_journal.get(resp.get_json()["operation_id"]).status == "failed"
    assert len(emulator.control.cash_journal()) == 1
    emulator.control.silent(False)
    time.sleep(0.6)  # [kkt] retry_interval_seconds: the KKT that just failed is left alone meanwhile
    retry = cash(client, "in", "500.00", key)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["operation_id"] == resp.get_json()["operation_id"]
    assert [r["amount"] for r in emulator.control.cash_journal()] == [1_000, 50_000]
    assert_recorded_once(emulator)


def test_a_lost_answer_the_kkt_recorded_is_decided_on_the_retry_never_doubled(client, emulator, new_key):
    cash(client, "in", "1000.00", new_key())
    # The KKT records the cash out and loses power before answering: the adapter cannot ask it now.
    emulator.control.fault("power_loss", command="51", after_print=True, seconds=DEAD)
    key = new_key()
    resp = cash(client, "out", "300.00", key)
    assert resp.status_code == 504 and resp.get_json()["code"] == "kkt_timeout"
    operation = cash_journal.get(resp.get_json()["operation_id"])
    assert operation.status == "sending" and operation.number_before == 0
    assert [r["kind"] for r in emulator.control.cash_journal()] == ["cash_in", "cash_out"]
    time.sleep(DEAD + 0.1)
    retry = cash(client, "out", "300.00", key)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    body = retry.get_json()
    assert (body["document_number"], body["cash_in_drawer"]) == (
        emulator.control.cash_journal()[-1]["document_number"],
        "700.00",
    )
    assert [r["kind"] for r in emulator.control.cash_journal()] == ["cash_in", "cash_out"]  # not doubled
    assert cash(client, "out", "300.00", key).get_data() == retry.get_data()  # now final and stored
    assert_recorded_once(emulator)


def test_a_command_lost_before_the_kkt_executed_it_is_sent_again_once(client, emulator, new_key):
    cash(client, "in", "10.00", new_key())
    emulator.control.fault("no_answer", command="50")  # ACKed, never executed, never answered
    key = new_key()
    resp = cash(client, "in", "200.00", key)
    # The KKT answers its counters right away: it did not record it, so nothing is in doubt.
    assert resp.status_code == 503 and "did not record" in resp.get_json()["detail"]
    assert len(emulator.control.cash_journal()) == 1
    retry = cash(client, "in", "200.00", key)
    assert retry.status_code == 200
    assert [r["amount"] for r in emulator.control.cash_journal()] == [1_000, 20_000]
    assert cash_journal.get(retry.get_json()["operation_id"]).attempts == 2
    assert_recorded_once(emulator)


def restart(make_app, app):
    """The adapter process ends (its port released) and a new one starts on the same buffer."""
    app.extensions["kkt"].device.close()
    return make_app()


def test_the_doubt_survives_an_adapter_restart(make_app, emulator, new_key):
    app = make_app()
    cash(app.test_client(), "in", "50.00", new_key())
    emulator.control.fault("power_loss", command="50", after_print=True, seconds=DEAD)
    key = new_key()
    resp = cash(app.test_client(), "in", "25.00", key)
    assert resp.status_code == 504
    time.sleep(DEAD + 0.1)
    app = restart(make_app, app)  # a new process: the journal is all it knows
    other = cash(app.test_client(), "in", "5.00", new_key())  # decides the doubt before it is sent
    assert other.status_code == 200
    assert cash_journal.get(resp.get_json()["operation_id"]).status == "done"
    retry = cash(app.test_client(), "in", "25.00", key)
    assert retry.status_code == 200 and retry.get_json()["operation_id"] == resp.get_json()["operation_id"]
    assert retry.get_json()["cash_in_drawer"] == "75.00"  # read when the doubt was decided
    assert [r["amount"] for r in emulator.control.cash_journal()] == [5_000, 2_500, 500]
    app = restart(make_app, app)
    replay = cash(app.test_client(), "in", "25.00", key)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_data() == retry.get_data()
    assert_recorded_once(emulator)


def test_a_shift_over_24_hours_refuses_like_receipts_until_the_z_report(client, emulator, new_key):
    cash(client, "in", "10.00", new_key())
    emulator.control.advance(24 * 3600 + 60)
    key = new_key()
    refused = cash(client, "in", "20.00", key)
    assert refused.status_code == 409
    assert (refused.get_json()["code"], refused.get_json()["device_code"]) == ("kkt_refused", 0x4E)
    assert client.post("/v1/kkt/shift/close").status_code == 200
    retry = cash(client, "in", "20.00", key)  # not final: a new shift opens by itself
    assert retry.status_code == 200 and retry.get_json()["cash_in_drawer"] == "20.00"  # the Z emptied it
    shifts = Counter(r["shift"] for r in emulator.control.cash_journal())
    assert shifts == {1: 1, 2: 1}
    assert_recorded_once(emulator)


def test_bad_requests_and_shutdown_record_nothing(make_app, emulator, new_key):
    app = make_app()
    client = app.test_client()
    missing = client.post("/v1/kkt/cash/in", json={"amount": "1.00"})
    assert missing.status_code == 400 and missing.get_json()["code"] == "idempotency_key_missing"
    invalid = cash(client, "out", "0.001", new_key(), cashier={"name": ""}, extra=1)
    assert invalid.status_code == 422
    fields = {e["field"] for e in invalid.get_json()["errors"]}
    assert (
        fields == {"amount", "cashier.name", "extra"}
        and invalid.get_json()["code"] == "invalid_cash_operation"
    )
    too_much = cash(client, "in", "10000000.01", new_key())  # [receipt] max_total
    assert too_much.status_code == 422
    app.extensions["kkt"].drainer.draining = True
    stopping = cash(client, "in", "1.00", new_key())
    assert stopping.status_code == 503 and stopping.get_json()["code"] == "shutting_down"
    assert CashOperation.select().count() == 0 and emulator.control.cash_journal() == []


def test_the_driver_speaks_50_51_1a_1b_with_the_emulator(driver, emulator):
    driver.open_shift()
    before = driver.cash_counters()
    assert (before.document_number, before.cash_in_number, before.cash_out_number) == (1, 0, 0)
    assert driver.cash_in(12_345).document_number == 2
    with pytest.raises(KktInsufficientCash) as refused:
        driver.cash_out(12_346)
    assert refused.value.code == 0x46
    assert driver.cash_out(345).document_number == 3
    after = driver.cash_counters()
    assert (after.document_number, after.cash_in_number, after.cash_out_number) == (3, 1, 1)
    assert driver.cash_in_drawer() == 12_000
    assert [(r["kind"], r["amount"]) for r in emulator.control.cash_journal()] == [
        ("cash_in", 12_345),
        ("cash_out", 345),
    ]
