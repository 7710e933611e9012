"""The metrics listener (``http.metrics_listen``) of the real gunicorn adapter serves monitoring only.

Prometheus reaches the till on the metrics port (nftables opens it to the monitoring server alone); the
receipt API must not be reachable through that port, while the API port keeps serving everything.
"""

from __future__ import annotations

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import AdapterProcess, free_port


@pytest.fixture
def adapter(tmp_path, kkt_emulator):
    metrics_port = free_port()
    proc = AdapterProcess(
        tmp_path / "adapter",
        kkt_emulator.port,
        pos_id=POS_ID,
        extra_env={"KKT_ADAPTER_HTTP__METRICS_LISTEN": f"127.0.0.1:{metrics_port}"},
    ).start()
    proc.metrics_url = f"http://127.0.0.1:{metrics_port}"
    yield proc
    proc.stop()


def test_metrics_port_serves_monitoring_and_refuses_the_receipt_api(adapter):
    assert adapter.post_receipt(sale_body()).status_code == 200  # the API port sells

    scrape = requests.get(adapter.metrics_url + "/metrics", timeout=5)
    assert scrape.status_code == 200
    assert f'kkt_buffer_size{{pos_id="{POS_ID}"}}' in scrape.text
    assert requests.get(adapter.metrics_url + "/v1/health", timeout=5).status_code == 200
    assert requests.get(adapter.metrics_url + "/v1/health/live", timeout=5).status_code == 200

    sale = requests.post(adapter.metrics_url + "/v1/kkt/receipt", json=sale_body(), timeout=5)
    assert sale.status_code == 404
    assert sale.headers["Content-Type"] == "application/problem+json"
    assert sale.json()["code"] == "not_on_metrics_listener"
    listing = requests.get(adapter.metrics_url + "/v1/kkt/receipts", headers=adapter.admin(), timeout=5)
    assert listing.status_code == 404

    receipts = requests.get(adapter.url + "/v1/kkt/receipts", headers=adapter.admin(), timeout=5).json()
    assert len(receipts) == 1  # the refused request journaled nothing
    assert requests.get(adapter.url + "/metrics", timeout=5).status_code == 200
