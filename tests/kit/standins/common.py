"""Machinery shared by the OFD and Odoo stand-ins: fault modes, problem+json, journal, CLI, control client.

A stand-in is a :class:`Standin` subclass that adds its API routes to the Flask app built here. The app
counts every API request, answers 503/500 in the ``down``/``error`` modes (an HTML 404 in ``nodb``), adds
``delay_ms`` of latency to every API response (after the request was processed, so a client that times out
meanwhile has still been served, like a lost answer on a real network), and serves the ``/control/`` routes:
``GET|POST /control/mode``, ``GET /control/stats``, ``POST /control/reset``. All state sits behind one
lock; with ``--state-dir`` what was received is appended to a JSON-lines journal (fsync) and replayed on
start, so idempotency survives a restart of the stand-in.

``main()`` is the command line of both stand-ins: ``--listen HOST:PORT`` (port 0 = any), ``--state-dir``,
one ``READY HOST:PORT`` line on stdout once listening, clean exit 0 on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from kkt_adapter.web import body as strict_json
from tests.kit import child_env

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
MAX_BODY = 16 * 1024 * 1024  # bytes of one request body (100 documents of a few KB each fit easily)
MAX_BATCH = 100  # items in one API request
MAX_DELAY_MS = 600_000
FN_NUMBER = re.compile(r"[0-9]{16}")  # use fullmatch
U32_MAX = 0xFFFF_FFFF


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def is_int(value: Any, low: int, high: int) -> bool:
    """A JSON integer in [low, high] (booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class ApiError(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem document with a stable machine ``code`` (same shape as the adapter's)."""
    body = {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    resp.headers.update(headers or {})
    return resp


def json_body() -> dict[str, Any]:
    """The request body as a JSON object, else 400 ``malformed_body`` (never a 500, whatever the bytes).

    Parsed by the adapter's own strict parser (depth, lone surrogates, NaN), so both sides refuse alike."""
    try:
        body = strict_json.loads(request.get_data(cache=True))
    except ValueError as exc:
        raise ApiError(400, "malformed_body", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_body", "the body must be a JSON object")
    return body


def batch(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``body[key]`` as a list of 1..MAX_BATCH JSON objects, else 400 ``malformed_body``."""
    items = body.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise ApiError(400, "malformed_body", f"'{key}' must be a list of 1..{MAX_BATCH} objects")
    if not all(isinstance(item, dict) for item in items):
        raise ApiError(400, "malformed_body", f"every element of '{key}' must be a JSON object")
    return items


# ---- fault mode ----------------------------------------------------------------------------------

#: What Odoo 17 answers on an addon route while its database is unreachable (measured on /opt/odoo17).
NODB_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server.</p>\n"
)


@dataclass(frozen=True)
class Mode:
    """What the stand-in does with API requests. ``only`` restricts ``reject`` to these item keys."""

    mode: str = "up"
    delay_ms: int = 0
    clock_skew_ms: int = 0
    only: frozenset[Any] | None = None

    def rejects(self, key: Any) -> bool:
        return self.mode == "reject" and (self.only is None or key in self.only)

    def as_json(self, filter_key: str | None) -> dict[str, Any]:
        data = {"mode": self.mode, "delay_ms": self.delay_ms, "clock_skew_ms": self.clock_skew_ms}
        if filter_key:
            data[filter_key] = None if self.only is None else sorted(self.only)
        return data


def parse_mode(body: dict[str, Any], modes: Sequence[str], filter_key: str | None) -> Mode:
    """A ``/control/mode`` body; every call describes the whole mode (omitted fields take defaults)."""
    allowed = {"mode", "delay_ms", "clock_skew_ms", *([filter_key] if filter_key else [])}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, "invalid_mode", f"unknown fields: {', '.join(unknown)}")
    mode = body.get("mode", "up")
    if mode not in modes:
        raise ApiError(400, "invalid_mode", f"'mode' must be one of {', '.join(modes)}")
    delay = body.get("delay_ms", 0)
    if not is_int(delay, 0, MAX_DELAY_MS):
        raise ApiError(400, "invalid_mode", f"'delay_ms' must be an integer 0..{MAX_DELAY_MS}")
    skew = body.get("clock_skew_ms", 0)
    if not is_int(skew, -(10**12), 10**12):
        raise ApiError(400, "invalid_mode", "'clock_skew_ms' must be an integer")
    only = body.get(filter_key) if filter_key else None
    if only is not None:
        if mode != "reject" or not isinstance(only, list):
            raise ApiError(400, "invalid_mode", f"'{filter_key}' is a list and only goes with mode 'reject'")
        only = frozenset(only)
    return Mode(mode, delay, skew, only)


# ---- journal -------------------------------------------------------------------------------------


class Journal:
    """Append-only JSON lines in the state directory (nothing is kept when there is none)."""

    def __init__(self, state_dir: Path | None, name: str):
        self.path = None if state_dir is None else Path(state_dir) / f"{name}.jsonl"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        records = []
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:  # a line torn by a crash: the request was never answered
                    log.warning("skipping a torn journal line in %s", self.path)
        return records

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Make ``records`` durable (fsync) or raise; encoded before the file is touched, so a record
        that cannot be stored never leaves half a line behind."""
        lines = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        if self.path is None or not lines:
            return
        data = lines.encode("utf-8")
        with self.path.open("ab") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def truncate(self) -> None:
        if self.path is not None:
            self.path.write_text("", encoding="utf-8")


# ---- the stand-in base ---------------------------------------------------------------------------


class Standin:
    """Base of a stand-in server: mode handling, counters and the control routes. Thread-safe."""

    name = "standin"
    api_prefix = "/v1/"
    modes: tuple[str, ...] = ("up", "down", "error")
    filter_key: str | None = None  # the /control/mode list that narrows 'reject'

    def __init__(self, state_dir: Path | None = None):
        self.lock = threading.RLock()
        self.journal = Journal(state_dir, self.name)
        self.mode = Mode()
        self.requests = 0

    # -- hooks for subclasses (called with the lock held, except register) --

    def register(self, app: Flask) -> None:
        """Add the API routes."""

    def counters(self) -> dict[str, Any]:
        return {}

    def clear(self) -> None:
        """Forget everything received (POST /control/reset)."""

    def _forget(self, record: dict[str, Any]) -> None:
        """Drop one record taken in memory by the current request (its journal write failed)."""

    def record_durably(self, new: list[dict[str, Any]]) -> None:
        """Journal ``new`` (fsync); if that fails, forget them and raise: what was not made durable is not
        recorded, so a retry is answered as new again, never as a duplicate. Call with the lock held."""
        try:
            self.journal.append(new)
        except Exception:
            for record in new:
                self._forget(record)
            raise

    # -- helpers --

    def current_mode(self) -> Mode:
        """The mode this request runs under (fixed when it arrived)."""
        return g.get("mode", self.mode)

    def server_time_ms(self) -> int:
        return now_ms() + self.current_mode().clock_skew_ms

    def create_app(self) -> Flask:
        app = Flask(f"tests.kit.standins.{self.name}")
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
        app.json.ensure_ascii = False  # type: ignore[attr-defined]
        app.json.sort_keys = False  # type: ignore[attr-defined]

        @app.before_request
        def _gate() -> Response | None:
            if not request.path.startswith(self.api_prefix):
                return None
            with self.lock:
                self.requests += 1
                g.mode = self.mode
            if g.mode.mode == "down":
                return problem(503, "unavailable", f"the {self.name} stand-in is down (test mode)")
            if g.mode.mode == "error":
                return problem(500, "internal_error", f"the {self.name} stand-in fails (test mode)")
            if g.mode.mode == "nodb":  # Odoo 17 without its database: no addon route, werkzeug's HTML 404
                return Response(NODB_PAGE, status=404, mimetype="text/html")
            return None

        @app.after_request
        def _delay(response: Response) -> Response:
            mode = g.get("mode")
            if mode is not None and mode.delay_ms:
                time.sleep(mode.delay_ms / 1000)
            return response

        @app.errorhandler(ApiError)
        def _api_error(exc: ApiError) -> Response:
            return problem(exc.status, exc.code, exc.detail, exc.headers)

        @app.errorhandler(HTTPException)
        def _http_error(exc: HTTPException) -> Response:
            status = exc.code or 500
            code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
                status, "http_error"
            )
            allow = getattr(exc, "valid_methods", None) if status == 405 else None
            headers = {"Allow": ", ".join(sorted(allow))} if allow else None
            return problem(status, code, exc.description or exc.name, headers)

        @app.errorhandler(Exception)
        def _crash(exc: Exception) -> Response:
            log.exception("unhandled error in the %s stand-in", self.name)
            return problem(500, "internal_error", f"{type(exc).__name__}: {exc}")

        @app.get("/control/mode")
        def _get_mode() -> Any:
            with self.lock:
                return self.mode.as_json(self.filter_key)

        @app.post("/control/mode")
        def _set_mode() -> Any:
            new = parse_mode(json_body(), self.modes, self.filter_key)
            with self.lock:
                self.mode = new
            log.info("%s mode: %s", self.name, new)
            return new.as_json(self.filter_key)

        @app.get("/control/stats")
        def _stats() -> Any:
            with self.lock:
                return {**self.counters(), "requests": self.requests}

        @app.post("/control/reset")
        def _reset() -> Any:
            with self.lock:
                self.clear()
                self.journal.truncate()
                self.requests = 0
                self.mode = Mode()
            return {"reset": True}

        self.register(app)
        return app


# ---- command line --------------------------------------------------------------------------------


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    build: Callable[[argparse.Namespace], Standin],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 0), help="HOST:PORT (0 = any)")
    parser.add_argument("--state-dir", type=Path, help="keep what was received here (JSON lines)")
    parser.add_argument("--log-level", default="WARNING")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(args.log_level.upper())  # it logs every request at INFO otherwise
    standin = build(args)
    host, port = args.listen
    server = make_server(host, port, standin.create_app(), threaded=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    shown = f"[{host}]" if ":" in host else host
    print(f"READY {shown}:{server.server_port}", flush=True)
    while not stop.wait(0.5):
        if not thread.is_alive():
            log.error("the %s server loop died", standin.name)
            return 1
    server.shutdown()
    server.server_close()
    return 0


# ---- control client ------------------------------------------------------------------------------


class ControlError(RuntimeError):
    """A control request was refused (the stand-in's problem detail is the message)."""


class ControlClient:
    """Python client of a stand-in's ``/control/`` API (base URL of the stand-in, no trailing slash)."""

    filter_key: str | None = None

    def __init__(self, base_url: str, *, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.session.request(method, self.base_url + path, json=body, timeout=self.timeout)
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            raise ControlError(f"{method} {path}: {resp.status_code} {detail}")
        return resp.json()

    def mode(
        self,
        mode: str = "up",
        *,
        delay_ms: int = 0,
        clock_skew_ms: int = 0,
        only: Iterable[Any] | None = None,
    ) -> dict[str, Any]:
        """Set the whole mode (omitted arguments go back to their defaults); returns it as applied."""
        body: dict[str, Any] = {"mode": mode, "delay_ms": delay_ms, "clock_skew_ms": clock_skew_ms}
        if only is not None:
            body[self.filter_key or "only"] = list(only)
        return self._call("POST", "/control/mode", body)

    def current_mode(self) -> dict[str, Any]:
        return self._call("GET", "/control/mode")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/control/stats")

    def reset(self) -> None:
        self._call("POST", "/control/reset", {})

    def close(self) -> None:
        self.session.close()


# ---- process launcher ----------------------------------------------------------------------------

READY_TIMEOUT = 15.0  # seconds for the READY line (interpreter start + imports on a busy box)
CONTROL_CLASSES = {"ofd": "OfdControl", "odoo": "OdooControl"}


class StandinProcess:
    """A stand-in running as a child process: ``.url`` (for the till), ``.control`` (client), ``.stop()``.

    ``StandinProcess.start("ofd")`` runs one on loopback (any free port); ``prefix`` runs the command
    through a wrapper (NetLab passes ``ip netns exec NAME``) and ``url_host``/``control_host`` say which
    addresses reach it when it listens on 0.0.0.0.
    """

    def __init__(self, kind: str, proc: subprocess.Popen[bytes], url: str, control_url: str, log_path: Path):
        self.kind = kind
        self.proc = proc
        self.url = url
        self.control_url = control_url
        self.log_path = log_path
        module = importlib.import_module(f"tests.kit.standins.{kind}")
        self.control: Any = getattr(module, CONTROL_CLASSES[kind])(control_url)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @classmethod
    def start(
        cls,
        kind: str,
        *,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        state_dir: Path | None = None,
        args: Sequence[str] = (),
        prefix: Sequence[str] = (),
        url_host: str | None = None,
        control_host: str | None = None,
        log_path: Path | None = None,
        timeout: float = READY_TIMEOUT,
    ) -> StandinProcess:
        if kind not in CONTROL_CLASSES:
            raise ValueError(f"unknown stand-in {kind!r}; expected one of {', '.join(CONTROL_CLASSES)}")
        host, port = listen
        command = [
            *prefix,
            sys.executable,
            "-m",
            f"tests.kit.standins.{kind}",
            "--listen",
            f"{host}:{port}",
        ]
        if state_dir is not None:
            command += ["--state-dir", str(state_dir)]
        command += list(args)
        if log_path is None:
            log_path = Path(tempfile.mkstemp(prefix=f"standin-{kind}-", suffix=".log")[1])
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log_file, start_new_session=True, env=child_env()
            )
        line = _first_line(proc, timeout)
        if not line.startswith("READY "):
            _terminate(proc)
            raise RuntimeError(f"{kind} stand-in did not start ({line!r}); see {log_path}")
        bound_port = int(line.split()[1].rsplit(":", 1)[1])
        url = f"http://{url_host or host}:{bound_port}"
        control_url = f"http://{control_host or url_host or host}:{bound_port}"
        return cls(kind, proc, url, control_url, log_path)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code. Idempotent."""
        self.control.close()
        return _terminate(self.proc, timeout)


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The child's first stdout line ('' when it exits or stays silent for ``timeout`` seconds)."""
    assert proc.stdout is not None
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf and (left := deadline - time.monotonic()) > 0:
        if not select.select([proc.stdout], [], [], min(left, 0.1))[0]:
            continue
        chunk = os.read(proc.stdout.fileno(), 256)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")


def _terminate(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode
