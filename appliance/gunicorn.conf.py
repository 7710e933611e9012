"""gunicorn settings of the KKT adapter (read by ``kkt-adapter``; installed to /etc/kkt-adapter/).

One worker on purpose: the serial port has exactly one owner, so the process that prints is the only
one that may talk to the KKT. Threads serve concurrent HTTP requests around it.
"""

from kkt_adapter import config as _config
from kkt_adapter import notify as _notify

_cfg = _config.load()

# [http] socket when the till's kkt-proxy (nginx) serves [http] listen in front of gunicorn, else [http]
# listen itself; plus the metrics-only listener for Prometheus when [http] metrics_listen is set
# (web/listeners.py limits it).
_api = f"unix:{_cfg.http.socket}" if _cfg.http.socket else _cfg.http.listen
bind = [_api] + ([_cfg.http.metrics_listen] if _cfg.http.metrics_listen else [])
# Exactly one process owns the serial port (see module docstring).
workers = 1
# Threaded worker: a slow print must not block health checks and metrics scrapes.
worker_class = "gthread"
# 8 threads: a till has 1-2 POS clients, plus Prometheus, the watchdog self-check and kktctl.
threads = 8
# Worker heartbeat timeout: the gthread main loop keeps beating while requests wait for the KKT.
timeout = 60
# On SIGTERM let the receipt in flight finish (a print takes seconds) before workers are killed.
graceful_timeout = 30
# Keep-alive for the POS browser's connection on the store LAN.
keepalive = 5
# The app is built in the worker (not preloaded) so the buffer connection and threads live there.
preload_app = False
# Logs go to stderr, which systemd sends to journald; no log files on the till.
accesslog = "-"
errorlog = "-"
loglevel = _cfg.log.level
# Bodies are capped by the app (413 as problem+json); keep gunicorn's header limits at defaults.
proc_name = "kkt-adapter"
# gunicorn 22+ opens a control socket in $HOME by default; the adapter needs none (systemctl and kktctl
# manage it), and on the till $HOME is not writable (ProtectSystem=strict).
control_socket_disable = True


def on_starting(server):
    """Hide NOTIFY_SOCKET from the arbiter: READY=1 is sent by the worker once the app is usable."""
    _notify.hide_socket_from_arbiter()


def worker_exit(server, worker):
    """Graceful stop of the worker: stop background threads, fold the WAL into the database (TRUNCATE)
    so the next start and any backup read one file, and tell systemd the service is stopping."""
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("kkt") if app is not None else None
    if runtime is not None:
        runtime.shutdown()
