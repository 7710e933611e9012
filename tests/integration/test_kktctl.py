"""kktctl against a running adapter (and without one): output, --json, and exit codes 0/1/2/3."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import BIN, AdapterProcess


@pytest.fixture
def adapter(tmp_path, kkt_emulator):
    proc = AdapterProcess(tmp_path / "adapter", kkt_emulator.port, pos_id=POS_ID).start()
    yield proc
    proc.stop()


def kktctl(adapter: AdapterProcess, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**adapter.env(), **(env_extra or {})}
    return subprocess.run([str(BIN / "kktctl"), *args], env=env, capture_output=True, text=True, timeout=60)


def test_shift_receipts_reports_and_status(adapter):
    opened = kktctl(adapter, "shift", "open")
    assert opened.returncode == 0, opened.stderr
    assert "shift 1 opened" in opened.stdout
    again = kktctl(adapter, "shift", "open")
    assert again.returncode == 1
    assert "shift_already_open" in again.stderr
    sale = requests.post(
        adapter.url + "/v1/kkt/receipt",
        json=sale_body(),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    ).json()
    listing = kktctl(adapter, "receipts", "list")
    assert listing.returncode == 0
    assert sale["receipt_id"] in listing.stdout and "printed" in listing.stdout
    shown = json.loads(kktctl(adapter, "--json", "receipts", "show", sale["receipt_id"]).stdout)
    events = [e["type"] for e in shown["events"]]
    assert events[:3] == ["receipt_added", "print_started", "receipt_printed"]  # then relay events
    assert shown["fd_number"] == sale["fiscal_doc"]["fd_number"]
    assert kktctl(adapter, "x-report").returncode == 0
    fn = json.loads(kktctl(adapter, "--json", "fn-status").stdout)
    assert fn["last_fd"] == sale["fiscal_doc"]["fd_number"]
    assert kktctl(adapter, "reconcile").returncode == 0
    status = kktctl(adapter, "status")
    assert status.returncode == 0
    assert "kkt         ok" in status.stdout
    closed = kktctl(adapter, "shift", "close")
    assert closed.returncode == 0 and "closed" in closed.stdout


def test_failures_have_distinct_exit_codes(adapter, tmp_path):
    wrong_token = kktctl(adapter, "--token", "nope", "reconcile")
    assert wrong_token.returncode == 1
    assert "401" in wrong_token.stderr
    assert kktctl(adapter, "receipts", "show", "no-such-id").returncode == 1
    assert kktctl(adapter, "frobnicate").returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[kkt]\nspeed = 9600\n")
    broken = kktctl(adapter, "--config", str(bad), "status", env_extra={"KKT_ADAPTER_CONFIG": str(bad)})
    assert broken.returncode == 2
    assert "kkt.speed: unknown setting" in broken.stderr
    adapter.stop()
    down = kktctl(adapter, "status")
    assert down.returncode == 3
    assert "unreachable" in down.stderr
    # Receipt listings read the buffer directly: they work with the adapter down.
    assert kktctl(adapter, "receipts", "list").returncode == 0


# ---- issue 8: what a new admin trips over --------------------------------------------------------


@pytest.fixture
def html_server():
    """A plain web server that is not the adapter (an HTML page on every path)."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE html><html><body>router admin</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_server_that_is_not_the_adapter_is_named_as_such(adapter, html_server):
    done = kktctl(adapter, "--url", html_server, "status")
    assert done.returncode == 3
    assert "is not a KKT adapter" in done.stderr and "text/html" in done.stderr
    assert "None" not in done.stdout + done.stderr


def test_unreachable_adapter_message_is_human(adapter):
    adapter.stop()
    done = kktctl(adapter, "x-report")
    assert done.returncode == 3
    assert "connection refused" in done.stderr
    assert "urllib3" not in done.stderr and "HTTPConnectionPool" not in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--url", "127.0.0.1:8765", "status"], "is not an http(s) URL"),
        (["receipts", "list", "--limit", "-5"], "must be from 1 to 1000"),
        (["receipts", "list", "--limit", "0"], "must be from 1 to 1000"),
        (["dlq"], "ACTION"),
        (["--config", "/nonexistent/missing.toml", "status"], "missing.toml: no such file"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(adapter, args, message):
    done = kktctl(adapter, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "sub" not in done.stderr.split()  # argparse's internal dest never leaks


def test_json_goes_before_or_after_the_subcommand(adapter):
    before = kktctl(adapter, "--json", "fn-status")
    after = kktctl(adapter, "fn-status", "--json")
    assert before.returncode == after.returncode == 0, after.stderr
    assert json.loads(before.stdout).keys() == json.loads(after.stdout).keys()


def test_config_types_and_environment_errors_are_named(adapter, tmp_path):
    quoted = tmp_path / "quoted.toml"
    quoted.write_text('[buffer]\ncapacity = "200"\n')
    done = kktctl(adapter, "--config", str(quoted), "status")
    assert done.returncode == 2
    assert "buffer.capacity: expected int, got the string '200'" in done.stderr
    env = kktctl(adapter, "status", env_extra={"KKT_ADAPTER_BUFFER__CAPACITY": "lots"})
    assert env.returncode == 2
    assert "environment variable KKT_ADAPTER_BUFFER__CAPACITY" in env.stderr


def test_status_says_why_it_is_degraded(adapter):
    drained = kktctl(adapter, "drain")
    assert drained.returncode == 0, drained.stderr
    status = kktctl(adapter, "status")
    assert "degraded: " in status.stdout and "draining for shutdown" in status.stdout


def test_the_launcher_reports_a_bad_config_in_one_line(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[buffer]\ncapacity = 0\n")
    done = subprocess.run(
        [str(BIN / "kkt-adapter")],
        env={"PATH": "/usr/bin:/bin", "KKT_ADAPTER_CONFIG": str(bad)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "kkt-adapter: configuration error: buffer.capacity: must be at least 1"
    ]
