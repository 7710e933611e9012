"""Keeps the metrics listener (``http.metrics_listen``) to monitoring paths only.

gunicorn binds both ``http.listen`` and ``http.metrics_listen``; the firewall lets the store's POS reach
the first and only the Prometheus server reach the second. A request that arrived on the metrics port
may read ``/metrics`` and ``/v1/health*`` and nothing else, so opening the metrics port to the
monitoring network never opens the receipt API to it.
"""

from __future__ import annotations

from flask import Flask, request

from kkt_adapter.config import HttpConfig
from kkt_adapter.web.errors import Problem


def _local_port() -> int | None:
    """Port of the listening socket this request came in on (gunicorn), else the WSGI SERVER_PORT."""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            return int(sock.getsockname()[1])
        except (OSError, IndexError, TypeError, ValueError):
            pass
    port = request.environ.get("SERVER_PORT", "")
    return int(port) if str(port).isdigit() else None


def _is_monitoring_path(path: str) -> bool:
    """``/metrics`` and the health endpoints (``/v1/health``, ``/v1/health/live``)."""
    return path in ("/metrics", "/v1/health") or path.startswith("/v1/health/")


def init_app(app: Flask, http: HttpConfig) -> None:
    if not http.metrics_listen:
        return
    metrics_port = int(http.metrics_listen.rpartition(":")[2])

    @app.before_request
    def _only_monitoring_on_metrics_port():
        if _local_port() == metrics_port and not _is_monitoring_path(request.path):
            raise Problem(
                "not_on_metrics_listener",
                f"{request.path} is served on the adapter's API address only; this port serves "
                "/metrics and /v1/health",
            )
