"""kktctl against a running adapter (and without one): output, --json, and exit codes 0/1/2/3."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import requests

from kkt_adapter.devstack import BIN, AdapterProcess
from tests.conftest import POS_ID, sale_body


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
