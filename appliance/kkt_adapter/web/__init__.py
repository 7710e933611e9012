"""Flask application factory of the KKT adapter (``create_app``), flaskr-style."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kkt_adapter import config as config_mod
from kkt_adapter import logs
from kkt_adapter.runtime import Runtime


def create_app(
    cfg: config_mod.Config | None = None,
    *,
    start_background: bool = True,
    **overrides: Any,
) -> Flask:
    """Build the app: load config (file < env < ``overrides``), open the buffer, wire the KKT.

    ``start_background`` starts the printer/probe threads and the systemd watchdog; tests that drive
    the app through the test client pass False and call the service directly when they need to.
    """
    from kkt_adapter.web import (
        buffer_api,
        cash,
        cors,
        drain_api,
        errors,
        health,
        listeners,
        metrics,
        receipts,
        shift,
        sync_api,
    )

    cfg = cfg or config_mod.load(**overrides)
    logs.configure(cfg.log.level, cfg.pos_id)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = cfg.http.max_body_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    runtime = Runtime(cfg)
    app.extensions["kkt"] = runtime
    errors.init_app(app)
    metrics.init_app(app, runtime)
    for bp in (receipts.bp, cash.bp, shift.bp, buffer_api.bp, health.bp, sync_api.bp, drain_api.bp):
        app.register_blueprint(bp)
    listeners.init_app(app, cfg.http)
    cors.init_app(app, cfg.http)  # after the blueprints (it reads their routes) and the listener check
    if start_background:
        runtime.start_background()
    return app
