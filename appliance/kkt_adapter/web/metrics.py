"""Prometheus metrics at ``/metrics`` (owner's plan names, ``pos_id`` label on every series).

Buffer gauges are read from the database at scrape time, so they are right even when another process
(sync, kktctl) changed the buffer; counters and histograms are updated by this process.
"""

from __future__ import annotations

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from kkt_adapter import hlc
from kkt_adapter.buffer import journal

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
        st = journal.buffer_status(self.runtime.cfg.buffer.capacity)
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
                hlc.drift_seconds(journal.current_hlc(), hlc.wall_clock_ms()),
            ),
        ):
            g = GaugeMetricFamily(name, doc, labels=["pos_id"])
            g.add_metric([pos], value)
            yield g
        snap = self.runtime.service.health.snapshot()
        up = GaugeMetricFamily(
            "kkt_device_up", "1 when the last exchange with the KKT succeeded", labels=["pos_id"]
        )
        up.add_metric([pos], 1.0 if snap.ok else 0.0)
        yield up
        state = GaugeMetricFamily(
            "kkt_device_state", "Current KKT state (1 = active)", labels=["pos_id", "state"]
        )
        for name in KKT_STATES:
            state.add_metric([pos, name], 1.0 if snap.state == name else 0.0)
        yield state


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

    def printed(self, fiscal_status: str, seconds: float) -> None:
        self.print_duration.labels(self.pos_id, fiscal_status).observe(seconds)


def init_app(app: Flask, runtime) -> None:
    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
