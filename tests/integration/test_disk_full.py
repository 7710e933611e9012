"""Disk full under the buffer: 507 storage_full, the reserve, and no acknowledged or signed receipt lost.

The buffer lives on a real tmpfs of a few MiB (mounted here, root only); the disk is filled with a real
file, never simulated. The KKT is the Shtrih-M emulator on a pty. Every test ends with the invariants:
``PRAGMA integrity_check`` is ok, the FN holds each receipt once, and every receipt acknowledged as printed
is in the journal with the FD it was answered with.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from kkt_adapter.buffer import storage
from kkt_adapter.buffer.connection import database
from kkt_adapter.buffer.models import Receipt
from kkt_adapter.web import create_app
from tests.conftest import sale_body

#: Big enough for the database, the WAL and a 1 MiB reserve; small enough to fill in a second.
DISK = "8m"
RESERVE = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path, leave: int = 0) -> Path:
    """A real file that takes the disk's free space until ``leave`` bytes remain (0: until ENOSPC)."""
    path = directory / f"filler-{uuid.uuid4().hex}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        free = storage.free_bytes(directory)
        if free > leave:
            os.posix_fallocate(fd, 0, free - leave)
        os.lseek(fd, 0, os.SEEK_END)
        chunk = b"\0" * 4096 if leave == 0 else b""
        while chunk:  # the last partial blocks, until the filesystem itself says ENOSPC
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)
    return path


def make_app(make_cfg, emulator, disk: Path):
    cfg = make_cfg(
        buffer={"path": str(disk / "buffer.db"), "reserve_bytes": RESERVE},
        kkt={"port": emulator.port, "answer_timeout": 0.6, "enq_timeout": 0.1, "attempts": 3},
    )
    return create_app(cfg, start_background=False)


def close(app) -> None:
    runtime = app.extensions["kkt"]
    runtime.shutdown()
    database.close()


@pytest.fixture
def till(make_cfg, kkt_emulator, small_disk):
    apps = []

    def start():
        app = make_app(make_cfg, kkt_emulator, small_disk)
        apps.append(app)
        return app, app.test_client()

    yield start
    for app in apps:
        app.extensions["kkt"].device.close()
    if not database.is_closed():
        database.close()


def sell(client, key: str | None = None, items: int = 10):
    body = sale_body(
        items=[
            {"name": f"Линза контактная {i:03d} " + "x" * 80, "price": "100.00", "quantity": 1, "vat": 6}
            for i in range(items)
        ],
        payments=[{"method": "card", "amount": f"{100 * items}.00"}],
    )
    key = key or str(uuid.uuid4())
    return key, client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})


def assert_storage_full(resp, disk: Path) -> None:
    assert resp.status_code == 507, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert problem["code"] == "storage_full"
    reported = int(re.search(r"(\d+) bytes free", problem["detail"]).group(1))
    assert reported == problem["free_bytes"]
    assert abs(reported - storage.free_bytes(disk)) <= RESERVE  # the reserve's room is all that may differ


def assert_invariants(emulator, acknowledged: dict[str, int]) -> None:
    """``acknowledged``: receipt_id -> FD the POS was answered with."""
    assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    fn = [d for d in emulator.control.journal() if d["type"] in (3, 31)]
    counts = Counter(d["text"] for d in fn)
    assert all(n == 1 for n in counts.values()), f"signed twice: {counts}"
    for receipt_id, fd in acknowledged.items():
        row = Receipt.get_by_id(receipt_id)
        assert (row.fiscal_status, row.fd_number) == ("printed", fd), receipt_id
        assert any(d["fd"] == fd and d["text"].endswith(receipt_id) for d in fn)


def test_selling_until_the_disk_is_full_then_sales_resume(till, kkt_emulator, small_disk):
    app, client = till()
    assert (small_disk / storage.RESERVE_NAME).stat().st_size == RESERVE
    filler = fill(small_disk, leave=512 * 1024)
    acknowledged: dict[str, int] = {}
    answers = Counter()
    for _ in range(300):
        _, resp = sell(client)
        answers[resp.status_code] += 1
        if resp.status_code == 507:
            break
        body = resp.get_json()
        assert resp.status_code == 200 and body["status"] == "printed", body
        acknowledged[body["receipt_id"]] = body["fiscal_doc"]["fd_number"]
    assert answers[507] == 1 and set(answers) == {200, 507}, answers
    assert len(acknowledged) >= 3
    assert_storage_full(resp, small_disk)
    assert not (small_disk / storage.RESERVE_NAME).exists()

    _, again = sell(client)  # every new sale is refused while the disk stays full
    assert_storage_full(again, small_disk)

    health = client.get("/v1/health")
    assert health.status_code == 503
    report = health.get_json()
    assert report["components"]["buffer"]["status"] == "storage_full"
    assert report["components"]["buffer"]["writable"] is False
    assert report["components"]["storage"]["status"] == "full"
    assert any("disk full" in r for r in report["reasons"])
    assert "DISK FULL" in app.extensions["kkt"].status_line()
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'kkt_storage_full{pos_id="test-till"} 1.0' in metrics
    assert 'kkt_storage_reserve_present{pos_id="test-till"} 0.0' in metrics
    assert re.search(r'kkt_storage_full_events_total\{pos_id="test-till"\} [1-9]', metrics)
    assert_invariants(kkt_emulator, acknowledged)

    filler.unlink()  # the admin frees space: the reserve comes back and sales resume by themselves
    _, resp = sell(client)
    assert resp.status_code == 200 and resp.get_json()["status"] == "printed"
    acknowledged[resp.get_json()["receipt_id"]] = resp.get_json()["fiscal_doc"]["fd_number"]
    assert (small_disk / storage.RESERVE_NAME).stat().st_size == RESERVE
    assert client.get("/v1/health").get_json()["components"]["storage"]["status"] == "ok"
    assert_invariants(kkt_emulator, acknowledged)


@pytest.mark.parametrize("reserve_left", [True, False], ids=["reserve-released", "no-reserve-left"])
def test_a_receipt_the_fn_signed_on_a_full_disk_is_answered_with_its_fd(
    till, kkt_emulator, small_disk, reserve_left
):
    """The disk fills between the FN's signature and the journal write. With the reserve, releasing it
    lets the journal take the result; without, the answer still carries the FD and the journal catches up
    from the FN on the next write. Never a 5xx the POS would answer by ringing the sale again."""
    app, client = till()
    device = app.extensions["kkt"].device
    real_fiscalize = device.fiscalize
    fillers: list[Path] = []

    def fiscalize_then_fill(receipt):
        result = real_fiscalize(receipt)
        if not reserve_left:
            (small_disk / storage.RESERVE_NAME).unlink()
        fillers.append(fill(small_disk))
        return result

    device.fiscalize = fiscalize_then_fill
    key, resp = sell(client)
    device.fiscalize = real_fiscalize
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == "printed"
    receipt_id, fd = body["receipt_id"], body["fiscal_doc"]["fd_number"]
    signed = [d for d in kkt_emulator.control.journal() if d.get("text", "").endswith(receipt_id)]
    assert [d["fd"] for d in signed] == [fd]
    journaled = Receipt.get_by_id(receipt_id)
    assert journaled.fiscal_status == ("printed" if reserve_left else "printing")

    _, retry = sell(client, key=key)  # the POS retries: same FD, from the journal or from memory
    assert retry.status_code == 200 and retry.get_json()["fiscal_doc"]["fd_number"] == fd
    _, refused = sell(client)
    assert_storage_full(refused, small_disk)

    for filler in fillers:
        filler.unlink()
    _, resp = sell(client)  # the next write: reconciliation journals the signed receipt from the FN
    assert resp.status_code == 200 and resp.get_json()["status"] == "printed"
    assert_invariants(
        kkt_emulator,
        {receipt_id: fd, resp.get_json()["receipt_id"]: resp.get_json()["fiscal_doc"]["fd_number"]},
    )


def test_zero_bytes_free_at_start(till, kkt_emulator, small_disk):
    """The disk filled while the adapter was down: the reserve is released at start, sales get 507."""
    acknowledged = stop_after_sales(till)
    filler = fill(small_disk)
    assert storage.free_bytes(small_disk) == 0

    _, client = till()  # the adapter starts on a disk with 0 bytes free
    _, resp = sell(client)
    assert_storage_full(resp, small_disk)
    health = client.get("/v1/health")
    assert health.status_code == 503
    assert health.get_json()["components"]["buffer"]["status"] == "storage_full"
    assert Receipt.select().count() == len(acknowledged)
    assert_invariants(kkt_emulator, acknowledged)

    filler.unlink()
    _, resp = sell(client)
    assert resp.status_code == 200 and resp.get_json()["status"] == "printed"
    acknowledged[resp.get_json()["receipt_id"]] = resp.get_json()["fiscal_doc"]["fd_number"]
    assert_invariants(kkt_emulator, acknowledged)


def test_zero_bytes_free_and_no_reserve_left_is_one_clear_line_until_space_returns(
    till, kkt_emulator, small_disk, tmp_path
):
    """No reserve left (released earlier, space never freed) and 0 bytes free: the journal cannot be opened
    at all (SQLite cannot create its WAL index). kkt-adapter says so in one line and exits 75 (systemd
    restarts it); nothing is lost, and once space is freed it starts and sells."""
    acknowledged = stop_after_sales(till)
    (small_disk / storage.RESERVE_NAME).unlink()
    filler = fill(small_disk)

    config = tmp_path / "adapter.toml"
    config.write_text(f'pos_id = "test-till"\n[buffer]\npath = "{small_disk / "buffer.db"}"\n')
    env = {**os.environ, "KKT_ADAPTER_CONFIG": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "kkt_adapter.cli.adapter"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 75, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kkt-adapter: the till's disk is full: 0 bytes free"), (
        lines
    )
    with pytest.raises(storage.StorageFull, match="journal cannot be opened"):
        till()

    filler.unlink()
    _, client = till()
    assert Receipt.select().count() == len(acknowledged)
    _, resp = sell(client)
    assert resp.status_code == 200 and resp.get_json()["status"] == "printed"
    acknowledged[resp.get_json()["receipt_id"]] = resp.get_json()["fiscal_doc"]["fd_number"]
    assert_invariants(kkt_emulator, acknowledged)


def stop_after_sales(till, sales: int = 3) -> dict[str, int]:
    """Sell ``sales`` receipts, then stop the adapter cleanly (WAL checkpointed, index removed)."""
    app, client = till()
    acknowledged = {}
    for _ in range(sales):
        _, resp = sell(client)
        acknowledged[resp.get_json()["receipt_id"]] = resp.get_json()["fiscal_doc"]["fd_number"]
    close(app)
    return acknowledged
