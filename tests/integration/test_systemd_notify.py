"""systemd notification from the real adapter (gunicorn): READY from the worker, STATUS, and a watchdog that
pings only while the adapter itself is alive — never tied to the KKT.

A UNIX datagram socket stands in for systemd's NOTIFY_SOCKET; WATCHDOG_USEC is set as systemd would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import AdapterProcess
from tests.kit.notify import NotifySocket

WATCHDOG_USEC = 600_000  # 0.6 s: the adapter pings every 0.2 s


def worker_pid(arbiter: int) -> int:
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@pytest.fixture
def stack(tmp_path, kkt_emulator):
    notify = NotifySocket(tmp_path / "notify.sock")
    adapter = AdapterProcess(
        tmp_path / "adapter",
        kkt_emulator.port,
        pos_id=POS_ID,
        extra_env={
            "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
            "WATCHDOG_USEC": str(WATCHDOG_USEC),
            "KKT_ADAPTER_BUFFER__BUSY_TIMEOUT_MS": "300",
            "KKT_ADAPTER_KKT__ANSWER_TIMEOUT": "0.5",
        },
    ).start()
    yield adapter, notify, kkt_emulator
    adapter.stop()
    notify.close()


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_ready_comes_from_the_app_and_watchdog_pings_while_alive(stack):
    _, notify, _ = stack
    assert wait_for(lambda: any("READY=1" in m for _, m in notify.messages))
    assert not any("arbiter booted" in m for _, m in notify.messages)  # gunicorn's early READY is hidden
    t0 = time.monotonic()
    time.sleep(1.5)
    assert notify.pings_between(t0, time.monotonic()) >= 4
    assert "KKT" in notify.last_status() and "buffer" in notify.last_status()


def test_unplugged_kkt_never_stops_the_watchdog(stack):
    adapter, notify, emulator = stack
    emulator.control.silent(True)
    t0 = time.monotonic()
    for _ in range(3):  # the cashier keeps selling; every sale is buffered
        resp = requests.post(
            adapter.url + "/v1/kkt/receipt",
            json=sale_body(),
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
        assert resp.json()["status"] == "buffered"
    time.sleep(1.5)
    assert notify.pings_between(t0, time.monotonic()) >= 4
    assert wait_for(lambda: "KKT unreachable" in notify.last_status())
    assert adapter.proc.poll() is None


def test_locked_buffer_withholds_the_watchdog(stack):
    adapter, notify, _ = stack
    db = sqlite3.connect(adapter.db_path, timeout=5, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        time.sleep(0.8)  # let pings in flight drain
        t0 = time.monotonic()
        time.sleep(1.5)
        assert notify.pings_between(t0, time.monotonic()) == 0
    finally:
        db.execute("ROLLBACK")
        db.close()
    t1 = time.monotonic()
    assert wait_for(lambda: notify.pings_between(t1, time.monotonic()) >= 2)


def test_frozen_worker_withholds_the_watchdog(stack):
    adapter, notify, _ = stack
    worker = worker_pid(adapter.proc.pid)
    os.kill(worker, signal.SIGSTOP)
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        time.sleep(1.5)
        assert notify.pings_between(t0, time.monotonic()) == 0
    finally:
        os.kill(worker, signal.SIGCONT)
    t1 = time.monotonic()
    assert wait_for(lambda: notify.pings_between(t1, time.monotonic()) >= 2)


def test_graceful_stop_checkpoints_the_wal_and_says_stopping(stack):
    adapter, notify, _ = stack
    resp = requests.post(
        adapter.url + "/v1/kkt/receipt",
        json=sale_body(),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert resp.json()["status"] == "printed"
    wal = Path(str(adapter.db_path) + "-wal")
    assert wal.stat().st_size > 0
    adapter.stop()
    assert adapter.proc.returncode == 0
    assert not wal.exists() or wal.stat().st_size == 0  # folded into buffer.db (SQLite may delete it)
    assert any("STOPPING=1" in m for _, m in notify.messages)
    rows = sqlite3.connect(adapter.db_path).execute("SELECT fiscal_status FROM receipts").fetchall()
    assert rows == [("printed",)]
