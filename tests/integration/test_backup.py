"""Buffer snapshots (``kktctl backup``) and ``kktctl restore`` against the real adapter and emulator.

A snapshot taken while the adapter sells holds every receipt acknowledged before it started; a damaged
snapshot is refused; retention keeps 7 days and never the newest; and the backup drill at the application
level: a snapshot restored into a fresh buffer path gives an adapter that replays the same answers for
the same idempotency keys.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from kkt_adapter import backup
from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import BIN, AdapterProcess


def kktctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kktctl"), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def adapter(tmp_path, kkt_emulator):
    proc = AdapterProcess(tmp_path / "adapter", kkt_emulator.port, pos_id=POS_ID).start()
    yield proc
    proc.stop()


def receipts_in(snapshot: Path, ids: list[str], workdir: Path) -> set[str]:
    """Receipt ids of ``ids`` found in a snapshot, read through the buffer package from a copy."""
    from kkt_adapter.buffer import db as buffer_db
    from kkt_adapter.buffer import journal

    copy = workdir / f"read-{uuid.uuid4().hex}.db"
    shutil.copy(snapshot, copy)
    handle = buffer_db.open_database(str(copy))
    try:
        return {rid for rid in ids if journal.get_receipt(rid) is not None}
    finally:
        handle.close()


def test_snapshot_while_selling_holds_every_acknowledged_receipt(adapter, tmp_path):
    acked: list[tuple[float, str]] = []
    stop = threading.Event()

    def sell() -> None:
        while not stop.is_set():
            resp = adapter.post_receipt(sale_body())
            assert resp.status_code == 200, resp.text
            acked.append((time.monotonic(), resp.json()["receipt_id"]))

    seller = threading.Thread(target=sell, daemon=True)
    seller.start()
    deadline = time.monotonic() + 20
    while len(acked) < 5:
        assert seller.is_alive() and time.monotonic() < deadline, "selling stopped before the snapshot"
        time.sleep(0.02)
    started = time.monotonic()
    result = kktctl(adapter.env(), "--json", "backup", "--dest", str(tmp_path / "backups"))
    finished = time.monotonic()
    time.sleep(0.2)  # a few more sales after the snapshot
    stop.set()
    seller.join(30)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    snapshot = Path(report["snapshot"])
    before = [rid for t, rid in acked if t < started]
    after = [rid for t, rid in acked if t > finished]
    assert len(before) >= 5 and after, "selling must go on before and after the snapshot"
    assert receipts_in(snapshot, before, tmp_path) == set(before)
    # The file is complete on its own: checksum beside it, integrity checked, no WAL to lose.
    assert report["integrity"] == "ok"
    assert Path(report["checksum_file"]).read_text() == f"{backup.sha256_of(snapshot)}  {snapshot.name}\n"
    assert not snapshot.with_name(snapshot.name + "-wal").exists()
    assert snapshot.read_bytes()[18:20] == b"\x01\x01"  # rollback-journal mode in the file header
    assert backup.SNAPSHOT_RE.match(snapshot.name)
    assert oct(snapshot.stat().st_mode & 0o777) == oct(backup.FILE_MODE)
    # Human output for the operator.
    human = kktctl(adapter.env(), "backup", "--dest", str(tmp_path / "backups"))
    assert human.returncode == 0 and "integrity   ok" in human.stdout and "retention   7 days" in human.stdout


def make_buffer(path: Path) -> Path:
    """A small real buffer written through the buffer package (no adapter needed)."""
    from kkt_adapter.buffer import db as buffer_db
    from kkt_adapter.buffer import events

    handle = buffer_db.open_database(str(path))
    events.add_event("network_status_changed", previous="online", current="offline")
    handle.close()
    return path


def test_damaged_or_unchecked_snapshot_is_refused(tmp_path):
    report = backup.take_snapshot(make_buffer(tmp_path / "buffer.db"), tmp_path / "backups")
    snapshot = Path(report.snapshot)
    env = {"KKT_ADAPTER_CONFIG": str(tmp_path / "absent.toml"), "PATH": "/usr/bin:/bin"}
    env |= {
        "KKT_ADAPTER_BUFFER__PATH": str(tmp_path / "fresh" / "buffer.db"),
        "KKT_ADAPTER_SYNC__LOCK_PATH": str(tmp_path / "run" / "sync.lock"),
        "KKT_ADAPTER_HTTP__LISTEN": "127.0.0.1:9",  # nothing answers: the adapter counts as stopped
    }
    assert kktctl(env, "restore", "--check", str(snapshot)).returncode == 0
    data = bytearray(snapshot.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte
    snapshot.write_bytes(bytes(data))
    refused = kktctl(env, "restore", str(snapshot))
    assert refused.returncode == 1
    assert "checksum mismatch" in refused.stderr
    assert not (tmp_path / "fresh" / "buffer.db").exists()
    snapshot.with_name(snapshot.name + ".sha256").unlink()
    unchecked = kktctl(env, "restore", str(snapshot))
    assert unchecked.returncode == 1 and "no checksum file" in unchecked.stderr


def test_retention_keeps_seven_days_and_always_the_newest(tmp_path):
    db = make_buffer(tmp_path / "buffer.db")
    dest = tmp_path / "backups"
    now = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    for days in range(1, 11):  # ten earlier nightly snapshots, 1..10 days old (plus an hour)
        backup.take_snapshot(db, dest, keep_days=30, now=now - timedelta(days=days, hours=1))
    report = backup.take_snapshot(db, dest, keep_days=7, now=now)
    ages = sorted((now - s.taken_at).days for s in backup.list_snapshots(dest))
    assert ages == [0, 1, 2, 3, 4, 5, 6]  # 7 days 1 hour and older are gone
    assert len(report.removed) == 4 and report.kept == 7
    assert sorted(p.name for p in dest.iterdir() if p.suffix == ".sha256") == sorted(
        s.path.name + ".sha256" for s in backup.list_snapshots(dest)
    )
    # Long after the last snapshot (the till was off for weeks), the newest one still survives.
    removed, kept = backup.prune(dest, 7, now + timedelta(days=60))
    assert kept == 1 and len(removed) == 6
    assert backup.list_snapshots(dest)[0].taken_at == now
    # Two snapshots in the same second get distinct names.
    a = backup.take_snapshot(db, dest, now=now + timedelta(days=60))
    b = backup.take_snapshot(db, dest, now=now + timedelta(days=60))
    assert Path(b.snapshot).name == Path(a.snapshot).name.replace(".db", "-2.db")


def test_backup_drill_restored_buffer_replays_the_same_answers(adapter, kkt_emulator, tmp_path):
    sales = {str(uuid.uuid4()): sale_body() for _ in range(4)}
    answers = {}
    for key, body in sales.items():
        resp = adapter.post_receipt(body, key=key)
        assert resp.status_code == 200, resp.text
        answers[key] = resp.json()
    made = kktctl(adapter.env(), "--json", "backup", "--dest", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    snapshot = json.loads(made.stdout)["snapshot"]

    # Restore refuses while the adapter answers, and over a healthy buffer that holds receipts.
    running = kktctl(adapter.env(), "restore", snapshot)
    assert running.returncode == 1 and "the adapter answers" in running.stderr
    adapter.stop()
    over = kktctl(adapter.env(), "restore", snapshot)
    assert over.returncode == 1 and "holds receipts" in over.stderr

    # A fresh till: the same KKT, an empty state directory; restore, start, ask again.
    fresh = AdapterProcess(tmp_path / "fresh", kkt_emulator.port, pos_id=POS_ID)
    restored = kktctl(fresh.env(), "--json", "restore", snapshot)
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)
    assert report["previous_state"] == "missing" and report["before_restore"] is None
    last_fd = max(a["fiscal_doc"]["fd_number"] for a in answers.values())
    assert report["last_fd_seen"] == last_fd
    fresh.start()
    try:
        # The runbook's check: nothing was signed after the snapshot, so the FN agrees with the journal.
        fn = json.loads(kktctl(fresh.env(), "--json", "fn-status").stdout)
        assert fn["last_fd"] == last_fd
        for key, body in sales.items():
            again = fresh.post_receipt(body, key=key)
            assert again.status_code == 200
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert again.json() == answers[key]
        listing = requests.get(fresh.url + "/v1/kkt/receipts", headers=fresh.admin(), timeout=10).json()
        assert {r["receipt_id"] for r in listing} == {a["receipt_id"] for a in answers.values()}
    finally:
        fresh.stop()

    # Forced over the old till's healthy buffer: the old file is kept aside, never overwritten.
    forced = kktctl(adapter.env(), "restore", "--force", snapshot)
    assert forced.returncode == 0, forced.stderr
    kept = adapter.db_path.with_name("buffer.db.before-restore")
    assert kept.is_file() and "kept as" in forced.stdout
    again = kktctl(adapter.env(), "restore", "--force", snapshot)
    assert again.returncode == 1 and "from an earlier restore" in again.stderr


def test_backup_failures_are_clear_and_leave_no_temporaries(tmp_path):
    env = {
        "KKT_ADAPTER_CONFIG": str(tmp_path / "absent.toml"),
        "KKT_ADAPTER_BUFFER__PATH": str(tmp_path / "buffer.db"),
        "PATH": "/usr/bin:/bin",
    }
    missing = kktctl(env, "backup", "--dest", str(tmp_path / "backups"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("kktctl: backup failed: no buffer database at")
    make_buffer(tmp_path / "buffer.db")
    (tmp_path / "not-a-dir").write_text("")
    blocked = kktctl(env, "backup", "--dest", str(tmp_path / "not-a-dir"))
    assert blocked.returncode == 1 and "cannot create the backup directory" in blocked.stderr
    assert kktctl(env, "backup", "--keep-days", "0").returncode == 2
    # Leftovers of a backup killed mid-way (its pid is gone) are swept by the next one.
    dest = tmp_path / "backups"
    dest.mkdir()
    (dest / ".tmp-999999999-buffer-20261101T000000Z.db").write_bytes(b"half a copy")
    assert kktctl(env, "backup", "--dest", str(dest)).returncode == 0
    assert sorted(p.suffix for p in dest.iterdir()) == [".db", ".sha256"]


def backup_timestamp(adapter: AdapterProcess) -> float:
    text = requests.get(adapter.url + "/metrics", timeout=5).text
    line = next(x for x in text.splitlines() if x.startswith("kkt_backup_last_success_timestamp_seconds{"))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_tell_when_the_newest_snapshot_was_taken(tmp_path, kkt_emulator):
    """BackupMissing (monitoring/rules/till.rules.yml) reads this: 0 before any snapshot, then the time of
    the newest one in the configured directory."""
    dest = tmp_path / "backups"
    proc = AdapterProcess(
        tmp_path / "adapter",
        kkt_emulator.port,
        pos_id=POS_ID,
        extra_env={"KKT_ADAPTER_BACKUP__DIR": str(dest)},
    ).start()
    try:
        assert backup_timestamp(proc) == 0.0
        before = time.time()
        done = kktctl(proc.env(), "--json", "backup")
        assert done.returncode == 0, done.stderr
        taken = backup_timestamp(proc)
        assert int(before) <= taken <= time.time()  # the snapshot's name holds whole seconds
        assert taken == backup.parse_snapshot(Path(json.loads(done.stdout)["snapshot"])).taken_at.timestamp()
    finally:
        proc.stop()
