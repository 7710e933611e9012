"""Phase 2 on loopback: relay, delivery to the OFD and Odoo stand-ins, breaker, lock, leases, DLQ, saga.

Real processes: the KKT emulator on a pty and the two stand-ins over HTTP. Network-level faults (netns,
link flapping, packet loss) are in tests/poc; here the stand-ins' own fault modes drive the paths.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest

import kkt_adapter
from kkt_adapter import hlc
from kkt_adapter.buffer import deliveries, events, journal
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.sync.breaker import breaker_states
from kkt_adapter.sync.heartbeat import STATES as NETWORK_STATES
from kkt_adapter.sync.heartbeat import NetworkMonitor
from kkt_adapter.sync.lock import HostLock, SyncBusy
from kkt_adapter.sync.runner import SyncRunner
from kkt_adapter.web import create_app
from tests.conftest import POS_ID, sale_body
from tests.kit import replay
from tests.kit.devstack import BIN

TOKEN = "till-secret"


@pytest.fixture
def standins(standins_factory):
    return standins_factory(POS_ID, TOKEN)


@pytest.fixture
def cfg(make_cfg, kkt_emulator, standins, tmp_path):
    ofd, odoo = standins
    return make_cfg(
        kkt={"port": kkt_emulator.port, "answer_timeout": 0.6, "enq_timeout": 0.1, "attempts": 3},
        ofd={"url": ofd.url, "timeout_seconds": 2.0},
        odoo={"url": odoo.url, "token": TOKEN, "timeout_seconds": 2.0},
        sync={
            "lock_path": str(tmp_path / "sync.lock"),
            "breaker_reset_seconds": 1.0,
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 0.02,
            "lease_seconds": 30.0,
        },
    )


@pytest.fixture
def app(cfg):
    application = create_app(cfg, start_background=False)
    yield application
    application.extensions["kkt"].device.close()


def sell(app, body=None, key=None):
    resp = app.test_client().post(
        "/v1/kkt/receipt", json=body or sale_body(), headers={"Idempotency-Key": key or str(uuid.uuid4())}
    )
    return resp


def deliver(app, runs=1):
    runtime = app.extensions["kkt"]
    reports = []
    for _ in range(runs):
        runtime.service.relay()
        reports.append(runtime.sync_now())
        runtime.service.relay()  # hand the acks back to the FN
    return reports[-1]


def test_sale_reaches_both_endpoints_and_the_fn_confirms_it(app, kkt_emulator, standins):
    ofd, odoo = standins
    key = str(uuid.uuid4())  # the POS order's access_token, sent as the Idempotency-Key
    sale = sell(app, key=key).get_json()
    report = deliver(app)
    assert report["targets"]["ofd"]["delivered"] == 2  # the shift-open report and the receipt
    assert report["targets"]["odoo"]["delivered"] == 1
    receipt = journal.get_receipt(sale["receipt_id"])
    assert receipt.status == "synced"
    assert receipt.hlc_server_time is not None
    assert kkt_emulator.control.state()["unconfirmed"] == []  # every document confirmed in the FN
    events = [e.event_type for e in journal.events_for(receipt.id)]
    assert {
        "fn_document_captured",
        "ofd_delivered",
        "odoo_delivered",
        "receipt_synced",
        "ofd_ack_applied",
    } <= set(events)
    assert replay.replay_sync_status(events) == "synced"
    assert ofd.control.stats()["unique_documents"] == 2
    assert odoo.control.stats()["unique_receipts"] == 1
    sent = odoo.control.receipts()[0]
    assert (sent["receipt_id"], sent["fd"]) == (receipt.id, receipt.fd_number)
    assert sent["fiscal_document_type"] == 3  # 31 would mean fiscalized late, as a correction receipt
    assert sent["idempotency_key"] == key  # Odoo joins the document to its POS order by it


def test_breaker_opens_after_five_failures_is_shared_and_closes_after_a_trial(app, cfg, standins, tmp_path):
    ofd, _ = standins
    ofd.control.mode("error")
    sell(app)
    app.extensions["kkt"].service.relay()
    for _ in range(5):
        time.sleep(cfg.sync.backoff_max_seconds)  # let the backoff of the previous failure pass
        SyncRunner(cfg).run()
    assert breaker_states()["ofd"] == "open"
    assert breaker_states()["odoo"] == "closed"
    requests_before = ofd.control.stats()["requests"]
    report = SyncRunner(cfg).run().as_dict()  # a fresh runner (as another process would) sees it open
    assert report["targets"]["ofd"]["skipped"] == "circuit open"
    assert ofd.control.stats()["requests"] == requests_before  # no call while open
    other = subprocess.run(
        [str(BIN / "kktctl"), "--json", "sync"],
        env={"KKT_ADAPTER_CONFIG": str(tmp_path / "absent.toml"), **_env(cfg)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(other.stdout)["targets"]["ofd"]["breaker"] == "open"  # shared with another process
    time.sleep(cfg.sync.breaker_reset_seconds + 0.1)
    ofd.control.mode("up")
    report = deliver(app)
    assert report["targets"]["ofd"]["delivered"] == 2
    assert breaker_states()["ofd"] == "closed"
    types = [e.event_type for e in journal.BufferEvent.select().where(journal.BufferEvent.receipt.is_null())]
    assert types.count("circuit_opened") == 1 and types.count("circuit_closed") == 1
    assert deliveries.dlq_list() == []  # transient failures never go to the DLQ


def _env(cfg) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("KKT_ADAPTER_")}
    env.update(
        {
            "KKT_ADAPTER_POS_ID": cfg.pos_id,
            "KKT_ADAPTER_BUFFER__PATH": cfg.buffer.path,
            "KKT_ADAPTER_OFD__URL": cfg.ofd.url,
            "KKT_ADAPTER_ODOO__URL": cfg.odoo.url,
            "KKT_ADAPTER_ODOO__TOKEN": cfg.odoo.token,
            "KKT_ADAPTER_SYNC__LOCK_PATH": cfg.sync.lock_path,
            "KKT_ADAPTER_SYNC__BREAKER_RESET_SECONDS": str(cfg.sync.breaker_reset_seconds),
        }
    )
    return env


def test_permanent_rejection_goes_to_the_dlq_and_a_retry_delivers(app, standins):
    ofd, _ = standins
    sale = sell(app).get_json()
    ofd.control.mode("reject")
    report = deliver(app)
    assert report["targets"]["ofd"]["dead_lettered"] == 2
    entries = deliveries.dlq_list()
    assert len(entries) == 2 and all("rejected by the OFD" in e.reason for e in entries)
    assert journal.get_receipt(sale["receipt_id"]).status == "failed"
    client = app.test_client()
    admin = {"Authorization": "Bearer s3cret"}
    assert len(client.get("/v1/kkt/dlq", headers=admin).get_json()) == 2
    ofd.control.mode("up")
    for entry in entries:
        assert (
            client.post(f"/v1/kkt/dlq/{entry.id}/retry", headers=admin, json={"by": "test"}).status_code
            == 200
        )
    deliver(app)
    receipt = journal.get_receipt(sale["receipt_id"])
    assert receipt.status == "synced"
    events = [e.event_type for e in journal.events_for(receipt.id)]
    assert replay.replay_sync_status(events) == "synced"
    assert client.post(f"/v1/kkt/dlq/{entries[0].id}/resolve", headers=admin).status_code == 404  # closed


def test_exactly_one_runner_at_a_time(app, cfg):
    sell(app)
    client = app.test_client()
    admin = {"Authorization": "Bearer s3cret"}
    with HostLock(cfg.sync.lock_path):
        with pytest.raises(SyncBusy):
            SyncRunner(cfg).run()
        busy = client.post("/v1/kkt/buffer/sync", headers=admin)
        assert busy.status_code == 409
        assert busy.get_json()["code"] == "sync_in_progress"
        cli = subprocess.run(
            [str(BIN / "kktctl"), "sync"], env=_env(cfg), capture_output=True, text=True, timeout=60
        )
        assert cli.returncode == 4
        assert "already running" in cli.stderr
    started = client.post("/v1/kkt/buffer/sync", headers=admin)
    assert started.status_code == 202


def test_a_killed_runner_leaves_nothing_stuck(app, cfg):
    # A runner killed mid-batch (the adapter restarted under it) holds a long lease; the next run holds the
    # host lock, so nobody else can be delivering those legs: it reclaims them at once, not in 120 s.
    sale = sell(app).get_json()
    app.extensions["kkt"].service.relay()
    leased = deliveries.lease("odoo", "dead-runner", 10, lease_seconds=120.0)
    assert leased and journal.get_receipt(sale["receipt_id"]).status == "syncing"
    report = deliver(app)
    assert report["leases_expired"] == 1
    assert journal.get_receipt(sale["receipt_id"]).status == "synced"


def test_duplicate_acknowledgments_and_replays_are_absorbed(app, standins):
    ofd, odoo = standins
    ofd.control.mode("duplicate_ack")
    sale = sell(app).get_json()
    deliver(app)
    deliveries.kick("ofd")
    assert journal.get_receipt(sale["receipt_id"]).status == "synced"
    assert ofd.control.stats()["unique_documents"] == 2
    assert odoo.control.stats()["duplicates"] == 0


def test_refund_saga_after_delivery(app, standins):
    sale = sell(app).get_json()
    deliver(app)
    too_much = sale_body(
        type="refund",
        original_receipt_id=sale["receipt_id"],
        items=[{"name": "Оправа", "price": "9500.00", "quantity": 1, "vat": 6}],
        payments=[{"method": "card", "amount": "9500.00"}],
    )
    assert sell(app, too_much).get_json()["code"] == "refund_exceeds_original"
    refund = sell(app, sale_body(type="refund", original_receipt_id=sale["receipt_id"]))
    assert refund.status_code == 200 and refund.get_json()["status"] == "printed"
    again = sell(app, sale_body(type="refund", original_receipt_id=sale["receipt_id"]))
    assert again.get_json()["code"] == "refund_exceeds_original"  # fully refunded already
    deliver(app)
    assert journal.get_receipt(refund.get_json()["receipt_id"]).status == "synced"
    _, odoo = standins
    assert {r["kind"] for r in odoo.control.receipts()} == {"sale", "refund"}


def test_receipt_states_are_rederivable_from_events(app, standins):
    ofd, _ = standins
    for _ in range(3):
        sell(app)
    ofd.control.mode("reject", fds=[2])
    deliver(app)
    for receipt in Receipt.select():
        events = [e.event_type for e in journal.events_for(receipt.id)]
        assert replay.replay_fiscal_status(events) == receipt.fiscal_status
        derived = replay.replay_sync_status(events)
        assert derived == ("pending" if receipt.status == "syncing" else receipt.status)


def test_heartbeat_hysteresis():
    mon = NetworkMonitor(offline_after=3, online_after=2, degraded_latency_ms=500)
    assert mon.observe(True, 10) == "unknown"
    assert mon.observe(True, 10) == "online"
    assert [mon.observe(False) for _ in range(3)] == ["online", "online", "offline"]
    assert mon.observe(True, 10) == "offline"
    assert mon.observe(True, 900) == "degraded"  # back, but slow
    assert mon.observe(True, 10, breaker_open=True) == "degraded"
    assert mon.observe(True, 10) == "online"


def test_heartbeat_feeds_server_time_into_the_hlc(app, cfg, standins):
    _, odoo = standins
    odoo.control.mode("up", clock_skew_ms=120_000)  # the server's clock is 2 min ahead
    from kkt_adapter.sync.clients import OdooClient
    from kkt_adapter.sync.heartbeat import Heartbeat

    changes = []
    beat = Heartbeat(
        cfg.heartbeat,
        OdooClient(cfg.odoo.url, 2.0, TOKEN),
        POS_ID,
        lambda: {},
        lambda: False,
        lambda a, b: changes.append((a, b)),
    )
    assert [beat.beat(), beat.beat()] == ["unknown", "online"]
    assert changes == [("unknown", "online")]
    assert events.current_hlc().wall_ms >= hlc.wall_clock_ms() + 100_000
    assert hlc.drift_seconds(events.current_hlc(), hlc.wall_clock_ms()) > 100
    odoo.control.mode("down")
    assert [beat.beat() for _ in range(3)][-1] == "offline"


def test_fn_backlog_warns_before_the_30_day_block(app, kkt_emulator, standins):
    ofd, _ = standins
    ofd.control.mode("down")
    sell(app)
    runtime = app.extensions["kkt"]
    kkt_emulator.control.advance(26 * 86400)
    backlog = runtime.service.fn_backlog()
    assert backlog.unconfirmed == 2
    assert 3.9 < backlog.days_to_block < 4.1
    assert backlog.warning_days == 5
    runtime.fn_watch.update(backlog, POS_ID)
    kkt_emulator.control.advance(2 * 86400)
    runtime.fn_watch.update(runtime.service.fn_backlog(), POS_ID)
    warnings = [
        json.loads(e.metadata)["warning_days"]
        for e in journal.BufferEvent.select().where(journal.BufferEvent.event_type == "fn_backlog_warning")
    ]
    assert warnings == [5, 3]
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'kkt_fn_unconfirmed_documents{pos_id="test-till"} 2.0' in metrics
    assert app.test_client().get("/v1/health").get_json()["status"] == "degraded"
    ofd.control.mode("up")
    deliver(app)
    assert runtime.service.fn_backlog().unconfirmed == 0
    _ = datetime.now(UTC)


def test_the_heartbeat_carries_what_the_fleet_page_reads(app, kkt_emulator, standins):
    """The keys of docs/api/odoo-till-contract.md (heartbeat ``status``) that optics_pos_ru54fz stores."""
    ofd, _ = standins
    ofd.control.mode("down")
    sell(app)
    runtime = app.extensions["kkt"]
    runtime.fn_watch.update(runtime.service.fn_backlog(), POS_ID)
    status = runtime.status.heartbeat_payload()
    assert status["version"] == kkt_adapter.__version__
    assert len(status["fn_number"]) == 16 and status["fn_number"].isdigit()
    assert status["fn_backlog"]["fn_number"] == status["fn_number"]
    assert status["fn_backlog"]["unconfirmed"] >= 1 and 29.9 < status["fn_backlog"]["days_to_block"] <= 30
    assert status["buffer"]["queued"] >= 1 and set(status["buffer"]) == {
        "queued",
        "capacity",
        "percent_full",
        "dlq",
    }
    assert status["buffer"]["percent_full"] == round(
        100 * status["buffer"]["queued"] / status["buffer"]["capacity"], 1
    )
    assert status["network"] in NETWORK_STATES and status["breaker"] in ("CLOSED", "HALF_OPEN", "OPEN")
    assert status["kkt"] == "ok"
    json.dumps(status)  # travels as JSON


PLAN_METRICS = (
    "kkt_buffer_size",
    "kkt_buffer_percent_full",
    "kkt_circuit_breaker_state",
    "kkt_circuit_breaker_opens_total",
    "kkt_sync_duration_seconds_bucket",
    "kkt_receipts_synced_total",
    "kkt_dlq_size",
    "kkt_hlc_drift_seconds",
)
EXTRA_METRICS = (
    "kkt_fn_unconfirmed_documents",
    "kkt_fn_days_to_block",
    "kkt_fn_days_to_expiry",
    "kkt_network_status",
    "kkt_print_duration_seconds_bucket",
    "kkt_deliveries_pending",
)


def test_metrics_carry_the_owner_plan_names_and_pos_id(app, standins):
    sell(app)
    deliver(app)
    runtime = app.extensions["kkt"]
    runtime.fn_watch.update(runtime.service.fn_backlog(), POS_ID)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    for name in PLAN_METRICS + EXTRA_METRICS:
        mine = [s for s in samples if s.startswith(name + "{")]
        assert mine, f"{name} missing"
        assert all(f'pos_id="{POS_ID}"' in s for s in mine), mine
    assert f'kkt_receipts_synced_total{{pos_id="{POS_ID}",status="success"}} 1.0' in text
    assert f'kkt_circuit_breaker_state{{endpoint="ofd",pos_id="{POS_ID}"}} 0.0' in text
    assert f'kkt_sync_duration_seconds_count{{pos_id="{POS_ID}"}} 1.0' in text


def test_expired_leases_of_a_killed_runner_are_delivered_by_the_adapter_loop(cfg, standins):
    # A runner (the timer's `kktctl sync`, or the adapter itself) killed -9 mid-batch leaves legs in `syncing`
    # with a lease nobody will release. The adapter's own background loop must pick them up on its next
    # round, long before the lease runs out — no timer run, no new sale to wake it.
    fast = dataclasses.replace(cfg, sync=dataclasses.replace(cfg.sync, relay_interval_seconds=0.2))
    application = create_app(fast, start_background=False)
    try:
        sale = sell(application).get_json()
        application.extensions["kkt"].service.relay()
        for target in ("ofd", "odoo"):
            assert deliveries.lease(target, "killed-runner", 10, lease_seconds=120.0)
        assert journal.get_receipt(sale["receipt_id"]).status == "syncing"
        application.extensions["kkt"].start_background()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and journal.get_receipt(sale["receipt_id"]).status != "synced":
            time.sleep(0.1)
        assert journal.get_receipt(sale["receipt_id"]).status == "synced"
        assert sum(deliveries.overview().pending.values()) == 0
    finally:
        application.extensions["kkt"].shutdown()


def test_odoo_without_its_database_is_waited_for_not_dead_lettered(app, cfg, standins):
    """Odoo 17 with PostgreSQL down answers every addon route with an HTML 404 (no problem+json): the API
    never judged the receipts, so they wait behind the breaker and flow by themselves when the database is
    back — no DLQ entry, no manual retry on 40 tills."""
    _, odoo = standins
    odoo.control.mode("nodb")
    assert sell(app).status_code == 200
    report = deliver(app)
    assert report["targets"]["odoo"]["delivered"] == 0
    assert "without a problem answer" in json.dumps(report["targets"]["odoo"])
    assert deliveries.dlq_list() == []
    assert deliveries.overview().pending["odoo"] == 1
    odoo.control.mode("up")
    time.sleep(cfg.sync.backoff_max_seconds)  # the failed batch's backoff
    report = deliver(app)
    assert report["targets"]["odoo"]["delivered"] == 1
    assert deliveries.dlq_list() == [] and odoo.control.stats()["unique_receipts"] == 1
