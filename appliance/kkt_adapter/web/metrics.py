"""Prometheus metrics at ``/metrics`` (owner's plan names, ``pos_id`` label on every series).

Buffer gauges are read from the database at scrape time, so they are right even when another process
(sync, kktctl) changed the buffer; counters and histograms are updated by this process.
"""

from __future__ import annotations

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from kkt_adapter import backup, hlc, status
from kkt_adapter.buffer import events
from kkt_adapter.buffer.models import DELIVERY_TARGETS

KKT_STATES = (
    "ok",
    "unknown",
    "unreachable",
    "timeout",
    "paper_out",
    "shift_expired",
    "shift_closed",
    "error",
)


class _BufferCollector:
    def __init__(self, runtime):
        self.runtime = runtime

    def collect(self):
        pos = self.runtime.cfg.pos_id
        snap = self.runtime.status.snapshot()  # one reading per scrape (status.py)
        st = snap.buffer
        if st is None:
            raise RuntimeError(f"buffer unreadable: {snap.buffer_error}")  # the scrape fails visibly
        for name, doc, value in (
            ("kkt_buffer_size", "Receipts awaiting delivery", st.current_queued),
            ("kkt_buffer_percent_full", "Buffer fullness, percent of capacity", st.percent_full),
            ("kkt_buffer_capacity", "Buffer capacity (receipts)", st.total_capacity),
            ("kkt_receipts_not_printed", "Journaled receipts not yet fiscalized by the KKT", st.not_printed),
            ("kkt_dlq_size", "Dead Letter Queue size", st.dlq_size),
            (
                "kkt_buffer_oldest_pending_age_seconds",
                "Age of the oldest undelivered receipt",
                st.oldest_pending_age_seconds or 0.0,
            ),
            (
                "kkt_hlc_drift_seconds",
                "HLC drift ahead of the wall clock",
                hlc.drift_seconds(events.current_hlc(), hlc.wall_clock_ms()),
            ),
        ):
            g = GaugeMetricFamily(name, doc, labels=["pos_id"])
            g.add_metric([pos], value)
            yield g
        yield from self._phase2(pos, snap)
        yield from self._storage(pos, snap.storage)
        yield self._backup(pos)
        kkt = snap.kkt
        up = GaugeMetricFamily(
            "kkt_device_up", "1 when the last exchange with the KKT succeeded", labels=["pos_id"]
        )
        up.add_metric([pos], 1.0 if kkt.ok else 0.0)
        yield up
        state = GaugeMetricFamily(
            "kkt_device_state", "Current KKT state (1 = active)", labels=["pos_id", "state"]
        )
        for name in KKT_STATES:
            state.add_metric([pos, name], 1.0 if kkt.state == name else 0.0)
        yield state

    def _backup(self, pos: str) -> GaugeMetricFamily:
        """When the newest journal snapshot was taken (``kktctl backup``, kkt-backup.timer); 0 = never.
        A snapshot is only listed once its checksum file is in place (backup.py), so it is a whole one."""
        try:
            snapshots = backup.list_snapshots(self.runtime.cfg.backup.dir)
        except OSError:  # an unreadable folder is no backup on-call can count on: BackupMissing fires
            snapshots = []
        g = GaugeMetricFamily(
            "kkt_backup_last_success_timestamp_seconds",
            "Unix time of the newest verified buffer snapshot (0 = none)",
            labels=["pos_id"],
        )
        g.add_metric([pos], snapshots[-1].taken_at.timestamp() if snapshots else 0.0)
        return g

    def _storage(self, pos: str, disk: dict):
        """The disk under the buffer (buffer/storage.py): free space, the reserve, refusals."""
        from prometheus_client.core import CounterMetricFamily

        if "free_bytes" not in disk:
            return  # no reserve configured (an in-memory test buffer)
        for name, doc, value in (
            ("kkt_storage_free_bytes", "Free bytes on the buffer's filesystem", disk["free_bytes"]),
            ("kkt_storage_reserve_present", "1 while the disk-full reserve file is in place",
             1.0 if disk["reserve_present"] else 0.0),
            ("kkt_storage_full", "1 while the disk is full and new receipts get 507 storage_full",
             1.0 if disk["status"] == "full" else 0.0),
        ):  # fmt: skip
            g = GaugeMetricFamily(name, doc, labels=["pos_id"])
            g.add_metric([pos], value)
            yield g
        events = CounterMetricFamily(
            "kkt_storage_full_events",
            "Times a write found the disk full (reserve released)",
            labels=["pos_id"],
        )
        events.add_metric([pos], disk["full_events"])
        yield events

    def _phase2(self, pos: str, snap: status.Snapshot):
        """Delivery metrics: breaker per endpoint, counters shared by every process, network, FN backlog."""
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        from kkt_adapter.buffer import deliveries
        from kkt_adapter.sync.breaker import STATE_VALUES
        from kkt_adapter.sync.runner import DURATION_BUCKETS

        state = GaugeMetricFamily(
            "kkt_circuit_breaker_state", "State: 0=CLOSED, 1=OPEN, 2=HALF_OPEN", labels=["pos_id", "endpoint"]
        )
        states = snap.breakers
        for endpoint in DELIVERY_TARGETS:
            state.add_metric([pos, endpoint], STATE_VALUES.get(states.get(endpoint, "closed"), 0))
        yield state
        values = {(c.name, c.labels): c.value for c in deliveries.counters()}
        # (exported name, help, label, stored counter name, stored label key, label values)
        for name, doc, label, stored, key, options in (
            ("kkt_circuit_breaker_opens", "Times opened", "endpoint", "kkt_circuit_breaker_opens_total",
             "endpoint", DELIVERY_TARGETS),
            ("kkt_receipts_synced", "Receipts delivered (or dead-lettered)", "status",
             "kkt_receipts_synced_total", "status", ("success", "failed")),
            ("kkt_documents_delivered", "Documents delivered per endpoint", "endpoint",
             "kkt_documents_delivered_total", "target", DELIVERY_TARGETS),
        ):  # fmt: skip
            family = CounterMetricFamily(name, doc, labels=["pos_id", label])
            for option in options:
                family.add_metric([pos, option], values.get((stored, f"{key}={option}"), 0))
            yield family
        redeliveries = CounterMetricFamily(
            "kkt_odoo_redeliveries",
            "Receipts sent to Odoo again because Odoo lost them (central server restored from a backup)",
            labels=["pos_id"],
        )
        redeliveries.add_metric([pos], values.get(("kkt_odoo_redeliveries_total", ""), 0))
        yield redeliveries
        hist = HistogramMetricFamily("kkt_sync_duration_seconds", "Sync run duration", labels=["pos_id"])
        buckets = [
            (str(le), values.get(("kkt_sync_duration_seconds_bucket", f"le={le}"), 0))
            for le in DURATION_BUCKETS
        ]
        buckets.append(("+Inf", values.get(("kkt_sync_duration_seconds_bucket", "le=+Inf"), 0)))
        hist.add_metric([pos], buckets, values.get(("kkt_sync_duration_seconds_sum", ""), 0))
        yield hist
        pending = GaugeMetricFamily(
            "kkt_deliveries_pending", "Documents waiting per endpoint", labels=["pos_id", "endpoint"]
        )
        overview = deliveries.overview()
        for endpoint in DELIVERY_TARGETS:
            pending.add_metric([pos, endpoint], overview.pending[endpoint])
        yield pending
        network = GaugeMetricFamily(
            "kkt_network_status", "Network state (1 = current)", labels=["pos_id", "status"]
        )
        current = snap.network
        for name in ("online", "degraded", "offline", "unknown"):
            network.add_metric([pos, name], 1.0 if current == name else 0.0)
        yield network
        backlog = snap.fn_backlog
        if backlog is not None:
            for name, doc, value in (
                (
                    "kkt_fn_unconfirmed_documents",
                    "FN documents not confirmed by the OFD",
                    backlog.unconfirmed,
                ),
                (
                    "kkt_fn_oldest_unconfirmed_age_seconds",
                    "Age of the oldest unconfirmed FN document",
                    backlog.oldest_age_seconds,
                ),
                (
                    "kkt_fn_days_to_block",
                    "Days until the FN blocks (30 days unconfirmed)",
                    backlog.days_to_block if backlog.days_to_block is not None else 30.0,
                ),
                ("kkt_fn_days_to_expiry", "Days until the FN expires", backlog.days_to_expiry),
            ):
                g = GaugeMetricFamily(name, doc, labels=["pos_id"])
                g.add_metric([pos], value)
                yield g


class Metrics:
    """Per-app registry (tests build many apps in one process)."""

    def __init__(self, runtime):
        self.registry = CollectorRegistry()
        self.pos_id = runtime.cfg.pos_id
        self.receipts = Counter(
            "kkt_receipt_requests_total",
            "Receipt requests by kind of answer",
            ["pos_id", "outcome"],
            registry=self.registry,
        )
        self.cash_operations = Counter(
            "kkt_cash_operations_total",
            "Cash in / cash out requests by kind and answer (done, insufficient_cash, replayed, failed, "
            "in_doubt)",
            ["pos_id", "kind", "outcome"],
            registry=self.registry,
        )
        self.print_duration = Histogram(
            "kkt_print_duration_seconds",
            "Time to drive one receipt through the KKT (including reconciliation)",
            ["pos_id", "fiscal_status"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7, 10, 20),
            registry=self.registry,
        )
        self.registry.register(_BufferCollector(runtime))

    def receipt(self, outcome) -> None:
        self.receipts.labels(self.pos_id, outcome.kind).inc()

    def cash(self, kind: str, outcome: str) -> None:
        self.cash_operations.labels(self.pos_id, kind, outcome).inc()

    def printed(self, fiscal_status: str, seconds: float) -> None:
        self.print_duration.labels(self.pos_id, fiscal_status).observe(seconds)


def init_app(app: Flask, runtime) -> None:
    """Serve ``/metrics``; the app's ``Metrics`` is ``app.extensions["kkt_metrics"]``."""
    app_metrics = Metrics(runtime)
    app.extensions["kkt_metrics"] = app_metrics
    runtime.print_observers.append(app_metrics.printed)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(app_metrics.registry), mimetype=CONTENT_TYPE_LATEST)
