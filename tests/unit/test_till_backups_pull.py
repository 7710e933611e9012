"""The central server's pull of the tills' buffer snapshots (central_till_backups' till_backups_pull.py).

The script runs on the central server with Debian's python3 alone, so it is loaded here by file path. Its
snapshot names and checksum format must stay those of appliance/kkt_adapter/backup.py: the snapshots
checked here are made by that real code. rsync is replaced by a stand-in that serves a folder as the till
(listing and fetch by name, as rrsync -ro does); the real rsync over SSH is exercised by the booted central
server test (tests/appliance/central/tests/test_50_till_backups.py).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kkt_adapter import backup

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ansible/roles/central_till_backups/files/till_backups_pull.py"
_spec = importlib.util.spec_from_file_location("till_backups_pull", SCRIPT)
pull = importlib.util.module_from_spec(_spec)
sys.modules["till_backups_pull"] = pull  # dataclasses resolve the module by name
_spec.loader.exec_module(pull)

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def make_buffer(path: Path) -> Path:
    """A small real buffer written through the buffer package."""
    from kkt_adapter.buffer import db as buffer_db
    from kkt_adapter.buffer import events

    handle = buffer_db.open_database(str(path))
    events.add_event("network_status_changed", previous="online", current="offline")
    handle.close()
    return path


@pytest.fixture(scope="module")
def buffer(tmp_path_factory) -> Path:
    return make_buffer(tmp_path_factory.mktemp("till") / "buffer.db")


def snapshot(buffer: Path, folder: Path, days_ago: float) -> Path:
    """A real snapshot taken ``days_ago`` before NOW (nothing pruned)."""
    report = backup.take_snapshot(buffer, folder, keep_days=365, now=NOW - timedelta(days=days_ago))
    return Path(report.snapshot)


def stamp(days_ago: float) -> str:
    return f"buffer-{(NOW - timedelta(days=days_ago)).strftime(pull.STAMP_FORMAT)}.db"


# --- the format shared with the tills ------------------------------------------------------------------


def test_names_and_checksum_format_are_the_tills():
    assert pull.SNAPSHOT_RE.pattern == backup.SNAPSHOT_RE.pattern
    assert pull.STAMP_FORMAT == backup.STAMP_FORMAT
    assert pull.CHECKSUM_SUFFIX == backup.CHECKSUM_SUFFIX


def test_verify_accepts_a_real_snapshot_and_rejects_damage(buffer, tmp_path):
    good = snapshot(buffer, tmp_path, 0)
    assert pull.verify(good) is None
    sidecar = good.with_name(good.name + ".sha256")
    digest = sidecar.read_text().split()[0]

    flipped = bytearray(good.read_bytes())
    flipped[-1] ^= 0xFF
    damaged = tmp_path / "damaged" / good.name
    damaged.parent.mkdir()
    damaged.write_bytes(bytes(flipped))
    shutil.copy(sidecar, damaged.parent)
    assert pull.verify(damaged).startswith(f"checksum mismatch: expected {digest}")

    other = tmp_path / "other" / stamp(1)
    other.parent.mkdir()
    shutil.copy(good, other)
    shutil.copy(sidecar, other.with_name(other.name + ".sha256"))  # names good.name: a swapped sidecar
    assert pull.verify(other) == f"the checksum file is for {good.name}"

    sidecar.write_text("not a digest\n")
    assert pull.verify(good) == "the checksum file holds no SHA-256"
    sidecar.unlink()
    assert pull.verify(good) == "no checksum file"


# --- what to fetch and what to keep --------------------------------------------------------------------


def test_to_fetch_takes_the_window_and_the_newest_not_held():
    names = [stamp(d) for d in (10, 6.9, 1, 0.5)]
    remote = [n + s for n in names for s in ("", ".sha256")] + [".tmp-123-x", "buffer.db.v2.bak"]
    assert pull.to_fetch(remote, [], NOW, 7) == [
        names[1] + ".sha256",
        names[1],
        names[2] + ".sha256",
        names[2],
        names[3] + ".sha256",
        names[3],
    ]  # the 10-day-old one is outside the window and not the newest
    assert pull.to_fetch(remote, names[1:3], NOW, 7) == [names[3] + ".sha256", names[3]]
    # A till that stopped taking snapshots: its newest is fetched whatever its age.
    old = [stamp(30), stamp(20), stamp(20) + ".sha256"]
    assert pull.to_fetch(old, [], NOW, 7) == [stamp(20) + ".sha256", stamp(20)]
    # No checksum file on the till: the snapshot is fetched alone (and rejected by verify).
    assert pull.to_fetch([stamp(1)], [], NOW, 7) == [stamp(1)]


def test_listing_of_rsync_gives_regular_files_only():
    listing = (
        "drwxr-x---          4,096 2026/12/06 02:31:12 .\n"
        "-rw-r-----        106,496 2026/12/06 02:31:12 buffer-20261206T023112Z.db\n"
        "-rw-r-----             93 2026/12/06 02:31:12 buffer-20261206T023112Z.db.sha256\n"
        "lrwxrwxrwx              9 2026/12/06 02:31:12 link\n"
    )
    assert pull.parse_listing(listing) == ["buffer-20261206T023112Z.db", "buffer-20261206T023112Z.db.sha256"]


def test_prune_removes_old_copies_but_never_the_newest(buffer, tmp_path):
    held = tmp_path / "held"
    for days in (9, 8, 3, 0):
        snapshot(buffer, held, days)
    (held / (stamp(12) + ".sha256")).write_text("orphan\n")  # its snapshot was never moved in
    assert pull.prune(held, NOW, 7) == [stamp(9), stamp(8)]
    assert pull.held_snapshots(held) == [stamp(3), stamp(0)]
    assert sorted(p.name for p in held.iterdir()) == sorted(
        [stamp(3), stamp(3) + ".sha256", stamp(0), stamp(0) + ".sha256"]
    )

    lonely = tmp_path / "unreachable"
    snapshot(buffer, lonely, 40)
    snapshot(buffer, lonely, 30)
    assert pull.prune(lonely, NOW, 7) == [stamp(40)]
    assert pull.held_snapshots(lonely) == [stamp(30)]  # the last good copy of a till gone for a month


# --- one till and the run, with rsync replaced by a folder ----------------------------------------------


class FakeRsync:
    """Serves ``tills[host]`` as the till's backup folder; a host not in ``tills`` is unreachable."""

    def __init__(self, tills: dict[str, Path], unreadable: frozenset[str] = frozenset()):
        self.tills = tills
        self.unreadable = unreadable  # listed, but the account cannot read them (rsync exit 23)
        self.fetched: list[str] = []

    def __call__(self, argv, stdin, timeout):
        assert argv[0] == "rsync" and argv[2] == "-e" and "StrictHostKeyChecking=accept-new" in argv[3]
        host = argv[3].split("HostName=")[1].split()[0]
        folder = self.tills.get(host)
        if folder is None:
            return 255, "", f"ssh: connect to host {host} port 22: Connection refused\n"
        if "--list-only" in argv:
            lines = [
                f"-rw-r----- {p.stat().st_size:>14,} 2026/12/06 02:31:12 {p.name}" for p in folder.iterdir()
            ]
            return 0, "drwxr-x--- 4,096 2026/12/06 02:31:12 .\n" + "\n".join(lines) + "\n", ""
        assert "--files-from=-" in argv and argv[-2].endswith(":./")
        dest, rc = Path(argv[-1]), 0
        errors = []
        for name in stdin.split():
            if (folder / name).is_file() and name not in self.unreadable:
                shutil.copy(folder / name, dest / name)
                self.fetched.append(name)
            else:
                errors.append(f'rsync: [sender] send_files failed to open "{name}": Permission denied (13)')
        if errors:
            errors.append("rsync error: some files/attrs were not transferred (code 23) at main.c(1956)")
            rc = 23
        return rc, "", "\n".join(errors)


def config(tmp_path: Path, *tills: tuple[str, str]) -> pull.Config:
    return pull.Config(
        dest=tmp_path / "dest",
        tills=[pull.Till("900", name, host, 22) for name, host in tills],
        metrics_file=tmp_path / "metrics.prom",
    )


def test_pull_keeps_good_snapshots_and_rejects_a_damaged_one(buffer, tmp_path):
    till = tmp_path / "till"
    for days in (10, 2, 1, 0):
        snapshot(buffer, till, days)
    (till / (stamp(1) + ".sha256")).write_text("0" * 64 + f"  {stamp(1)}\n")
    rsync = FakeRsync({"10.0.0.11": till})
    cfg = config(tmp_path, ("till-01", "10.0.0.11"))

    first = pull.pull_till(cfg, cfg.tills[0], NOW, rsync)
    folder = cfg.dest / "900" / "till-01"
    assert not first.success and first.error == "1 snapshot(s) rejected"
    assert first.pulled == [stamp(2), stamp(0)]
    assert first.rejected == [
        f"{stamp(1)}: checksum mismatch: expected {'0' * 64}, file has {backup.sha256_of(till / stamp(1))}"
    ]
    assert pull.held_snapshots(folder) == [stamp(2), stamp(0)]
    assert sorted(p.name for p in (folder / "rejected").iterdir()) == [stamp(1), stamp(1) + ".sha256"]
    assert stamp(10) not in rsync.fetched  # outside the window, not the newest
    assert (first.copies, first.last_success_at, first.newest_taken_at) == (2, 0, NOW.timestamp())
    assert not list((folder / ".incoming").iterdir())

    # Repaired on the till (the damaged snapshot removed): the next run succeeds and fetches only news.
    (till / stamp(1)).unlink()
    (till / (stamp(1) + ".sha256")).unlink()
    rsync.fetched.clear()
    second = pull.pull_till(cfg, cfg.tills[0], NOW + timedelta(hours=1), rsync)
    assert second.success and second.pulled == [] and rsync.fetched == []
    assert second.last_success_at == (NOW + timedelta(hours=1)).timestamp()


def test_a_failed_transfer_keeps_what_arrived_and_rejects_nothing(buffer, tmp_path):
    till = tmp_path / "till"
    for days in (1, 0):
        snapshot(buffer, till, days)
    cfg = config(tmp_path, ("till-01", "10.0.0.11"))
    rsync = FakeRsync({"10.0.0.11": till}, unreadable=frozenset({stamp(0) + ".sha256"}))
    result = pull.pull_till(cfg, cfg.tills[0], NOW, rsync)
    assert not result.success and result.rejected == [] and result.pulled == [stamp(1)]
    denied = f'rsync: [sender] send_files failed to open "{stamp(0)}.sha256": Permission denied (13)'
    assert result.error == f"rsync exit 23: {denied}"  # the telling line, not rsync's closing summary
    folder = cfg.dest / "900" / "till-01"
    assert not (folder / "rejected").exists() and not list((folder / ".incoming").iterdir())
    # Readable again: the next run fetches the rest.
    rsync.unreadable = frozenset()
    assert pull.pull_till(cfg, cfg.tills[0], NOW, rsync).pulled == [stamp(0)]


def test_a_snapshot_without_checksum_file_is_rejected(buffer, tmp_path):
    till = tmp_path / "till"
    snapshot(buffer, till, 0).with_name(stamp(0) + ".sha256").unlink()
    cfg = config(tmp_path, ("till-01", "10.0.0.11"))
    result = pull.pull_till(cfg, cfg.tills[0], NOW, FakeRsync({"10.0.0.11": till}))
    assert not result.success and result.rejected == [f"{stamp(0)}: no checksum file"]
    assert result.copies == 0


def test_an_unreachable_till_fails_alone_and_keeps_its_last_good_copy(buffer, tmp_path):
    reachable = tmp_path / "till-01"
    snapshot(buffer, reachable, 0)
    cfg = config(tmp_path, ("till-01", "10.0.0.11"), ("till-02", "10.0.0.12"), ("bad/../name", "10.0.0.13"))
    gone = cfg.dest / "900" / "till-02"
    snapshot(buffer, gone, 20)  # pulled three weeks ago; the till has been off since

    results = pull.run(cfg, NOW, FakeRsync({"10.0.0.11": reachable}))
    by_name = {r.till.name: r for r in results}
    assert by_name["till-01"].success and by_name["till-01"].pulled == [stamp(0)]
    assert not by_name["till-02"].success
    assert (
        by_name["till-02"].error
        == "rsync exit 255: ssh: connect to host 10.0.0.12 port 22: Connection refused"
    )
    assert pull.held_snapshots(gone) == [stamp(20)]
    assert by_name["bad/../name"].error.startswith("unsafe store or till name")
    assert not (cfg.dest / "900" / "bad").exists()

    families = {f.name: f for f in text_string_to_metric_families(cfg.metrics_file.read_text())}
    value = {
        (f.name, s.labels.get("till")): s.value for f in families.values() for s in f.samples
    }  # fmt: skip
    prefix = "opticserp_till_backup_"
    assert value[(prefix + "last_run_success", "till-01")] == 1
    assert value[(prefix + "last_run_success", "till-02")] == 0
    assert value[(prefix + "last_success_timestamp_seconds", "till-01")] == NOW.timestamp()
    assert value[(prefix + "last_success_timestamp_seconds", "till-02")] == 0
    assert (
        value[(prefix + "newest_snapshot_timestamp_seconds", "till-02")]
        == (NOW - timedelta(days=20)).timestamp()
    )
    assert value[(prefix + "files", "till-02")] == 1
    assert value[(prefix + "bytes", "till-01")] == sum(p.stat().st_size for p in reachable.iterdir())
    assert value[(prefix + "rejected", "till-01")] == 0
    assert (prefix + "run_timestamp_seconds", None) in value
    assert oct(cfg.metrics_file.stat().st_mode & 0o777) == "0o644"  # node exporter reads it


def test_main_exits_1_when_a_till_failed_and_2_without_config(buffer, tmp_path, capsys):
    assert pull.main(["--config", str(tmp_path / "absent.json")]) == 2
    cfg = tmp_path / "till-backups.json"
    settings = {
        "dest": str(tmp_path / "dest"),
        "retention_days": 7,
        "connect_timeout": 1,
        "till_timeout": 5,
        "ssh_key": str(tmp_path / "no-key"),
        "known_hosts": str(tmp_path / "known_hosts"),
        "tills": [{"store": "900", "name": "till-01", "host": "127.0.0.1", "ssh_port": 9}],
    }
    cfg.write_text(json.dumps(settings))
    # Nothing listens on port 9 (or this host has no rsync at all): the till fails, the run says so.
    assert pull.main(["--config", str(cfg)]) == 1
    assert "failed: 900/till-01" in capsys.readouterr().err
