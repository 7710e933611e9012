#!/usr/bin/python3
"""Pull every till's buffer snapshots to the central server and verify them (central-till-backups.service).

Installed by the central_till_backups role as /usr/local/lib/opticserp/till_backups_pull.py and run once a
day by central-till-backups.timer as user till-backups. Standard library only (Debian 12's python3); the
tills' side is `kktctl backup` (appliance/kkt_adapter/backup.py), whose file names and ``.sha256`` format
this script shares (tests/unit/test_till_backups_pull.py holds them together).

For each till of the JSON configuration the role writes (/etc/opticserp/till-backups.json):

1. ``rsync --list-only`` over SSH (the till's port, key-only, time limits) as the till's read-only account
   ``kkt-backup-pull``, whose key is forced to ``rrsync -ro <backup dir>`` (till_adapter's backup_access.yml):
   the till's snapshots ``buffer-YYYYmmddTHHMMSSZ.db`` (UTC, ``-N`` suffix for a second in the same second)
   and their ``.sha256`` files.
2. Snapshots inside the retention window (by the time in their name), plus the till's newest whatever its
   age, that the central copy does not hold yet are fetched into ``<dest>/<store>/<till>/.incoming/``.
3. Each fetched snapshot is checked against its ``.sha256`` (digest and file name). A good one moves into
   ``<dest>/<store>/<till>/`` under the till's own name (checksum first, as on the till, so a visible copy
   always has its checksum); a bad one moves to ``rejected/`` (kept ``retention_days`` for a look), is
   logged, and fails the till's run. A damaged snapshot is fetched again at the next run: a transfer error
   heals itself, damage on the till keeps failing until the till's copy is gone.
4. Retention: copies older than ``retention_days`` are removed, never the newest good copy of a till — a
   till that stays unreachable (dead disk, store closed for a fortnight) keeps its last good copy, which is
   exactly what restoring it needs.

One till failing (unreachable, rsync error, rejected snapshot) does not stop the others; the exit status is
1 when any till failed. Node exporter's textfile collector reads the metrics file (per till: last run
success, last success time, newest copy's time, copies, bytes, rejected; and the run's time and duration).
Restore from a copy: runbooks/central-till-backups.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: Name of a till's snapshot, as appliance/kkt_adapter/backup.py writes it (held equal by the unit test).
SNAPSHOT_RE = re.compile(r"^buffer-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<seq>\d+))?\.db$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
CHECKSUM_SUFFIX = ".sha256"
#: Store ids and till names become folder names: nothing that could climb out of the destination.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
INCOMING = ".incoming"
REJECTED = "rejected"
LAST_SUCCESS = ".last-success"
#: rsync exit codes that still mean "what was listed came": 24 = a file vanished (the till pruned it).
RSYNC_OK = {0, 24}

Runner = Callable[[list[str], str | None, float], tuple[int, str, str]]


@dataclass(frozen=True)
class Till:
    store: str
    name: str
    host: str
    ssh_port: int = 22


@dataclass
class Config:
    dest: Path
    tills: list[Till]
    retention_days: int = 7
    remote_user: str = "kkt-backup-pull"
    ssh_key: str = "/var/lib/till-backups/.ssh/id_ed25519"
    known_hosts: str = "/var/lib/till-backups/.ssh/known_hosts"
    connect_timeout: int = 15
    io_timeout: int = 120
    till_timeout: int = 900
    parallel: int = 4
    ssh_options: list[str] = field(default_factory=list)
    metrics_file: Path | None = None

    @classmethod
    def load(cls, path: Path) -> Config:
        raw = json.loads(path.read_text(encoding="utf-8"))
        tills = [
            Till(str(t["store"]), str(t["name"]), str(t["host"]), int(t.get("ssh_port", 22)))
            for t in raw["tills"]
        ]
        cfg = cls(dest=Path(raw["dest"]), tills=tills)
        for key in ("retention_days", "connect_timeout", "io_timeout", "till_timeout", "parallel"):
            if key in raw:
                setattr(cfg, key, int(raw[key]))
        for key in ("remote_user", "ssh_key", "known_hosts"):
            if key in raw:
                setattr(cfg, key, str(raw[key]))
        cfg.ssh_options = [str(o) for o in raw.get("ssh_options", [])]
        cfg.metrics_file = Path(raw["metrics_file"]) if raw.get("metrics_file") else None
        if cfg.retention_days < 1 or cfg.parallel < 1:
            raise ValueError("retention_days and parallel must be at least 1")
        return cfg


@dataclass
class TillResult:
    till: Till
    success: bool = False
    error: str = ""
    pulled: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    copies: int = 0
    bytes: int = 0
    newest_taken_at: float = 0.0  # epoch seconds of the newest good copy held (0: none)
    last_success_at: float = 0.0  # epoch seconds of the last fully successful pull (0: never)


# --- names, checksums, retention ------------------------------------------------------------------------


def taken_at(name: str) -> tuple[datetime, int] | None:
    """(UTC time in the name, sequence number) of a snapshot name; None for anything else."""
    match = SNAPSHOT_RE.match(name)
    if not match:
        return None
    return datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC), int(match["seq"] or 1)


def snapshot_names(names: Iterable[str]) -> list[str]:
    """Snapshot names among ``names``, oldest first (by the time in the name, then the sequence)."""
    found = [(stamp, n) for n in names if (stamp := taken_at(n)) is not None]
    return [n for _, n in sorted(found)]


def parse_listing(text: str) -> list[str]:
    """File names of an ``rsync --list-only`` listing of one folder (regular files only)."""
    names = []
    for line in text.splitlines():
        parts = line.split(None, 4)
        if len(parts) == 5 and parts[0].startswith("-"):
            names.append(parts[4])
    return names


def to_fetch(remote: Iterable[str], held: Iterable[str], now: datetime, retention_days: int) -> list[str]:
    """Files to pull: each snapshot of the till inside the window, and its newest whatever its age, that is
    not held yet — with its checksum file when the till has one (its absence then rejects the snapshot)."""
    remote = set(remote)
    snapshots = snapshot_names(remote)
    held = set(held)
    window = timedelta(days=retention_days)
    wanted = []
    for name in snapshots:
        stamp = taken_at(name)
        assert stamp is not None
        if name in held or (now - stamp[0] > window and name != snapshots[-1]):
            continue
        wanted += [name + CHECKSUM_SUFFIX] if name + CHECKSUM_SUFFIX in remote else []
        wanted.append(name)
    return wanted


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(snapshot: Path) -> str | None:
    """None when ``snapshot`` matches its ``.sha256`` (sha256sum format: digest, two spaces, name), else why
    not."""
    sidecar = snapshot.with_name(snapshot.name + CHECKSUM_SUFFIX)
    try:
        words = sidecar.read_text(encoding="ascii").split()
    except FileNotFoundError:
        return "no checksum file"
    except (OSError, UnicodeDecodeError) as exc:
        return f"unreadable checksum file: {exc}"
    if not words or not re.fullmatch(r"[0-9a-f]{64}", words[0]):
        return "the checksum file holds no SHA-256"
    if len(words) > 1 and words[1].lstrip("*") != snapshot.name:
        return f"the checksum file is for {words[1]}"
    actual = sha256_of(snapshot)
    if actual != words[0]:
        return f"checksum mismatch: expected {words[0]}, file has {actual}"
    return None


def held_snapshots(folder: Path) -> list[str]:
    """Good copies in a till's folder (a snapshot with its checksum file beside it), oldest first."""
    if not folder.is_dir():
        return []
    names = {p.name for p in folder.iterdir() if p.is_file()}
    return [n for n in snapshot_names(names) if n + CHECKSUM_SUFFIX in names]


def prune(folder: Path, now: datetime, retention_days: int) -> list[str]:
    """Remove copies older than ``retention_days`` (by the time in their name), never the newest one, and
    checksum files left without their snapshot; rejected files older than the window (by mtime)."""
    removed: list[str] = []
    held = held_snapshots(folder)
    window = timedelta(days=retention_days)
    for name in held[:-1]:  # the newest good copy stays whatever its age
        stamp = taken_at(name)
        assert stamp is not None
        if now - stamp[0] > window:
            (folder / (name + CHECKSUM_SUFFIX)).unlink(missing_ok=True)
            (folder / name).unlink(missing_ok=True)
            removed.append(name)
    if folder.is_dir():
        for orphan in folder.glob("buffer-*" + CHECKSUM_SUFFIX):
            if not (folder / orphan.name.removesuffix(CHECKSUM_SUFFIX)).exists():
                orphan.unlink(missing_ok=True)
    rejected = folder / REJECTED
    if rejected.is_dir():
        cutoff = now.timestamp() - window.total_seconds()
        for path in rejected.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    return removed


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str, mode: int = 0o640) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# --- one till --------------------------------------------------------------------------------------------


def ssh_command(cfg: Config, till: Till) -> str:
    """The remote shell rsync starts (``-e``): key only, no prompts, the till's port, time limits, and
    trust-on-first-use of the till's host key (accept-new: a changed key is refused)."""
    argv = [
        "ssh",
        "-F",
        "none",
        "-i",
        cfg.ssh_key,
        "-p",
        str(till.ssh_port),
        "-l",
        cfg.remote_user,
        "-o",
        f"HostName={till.host}",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        f"UserKnownHostsFile={cfg.known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        f"ConnectTimeout={cfg.connect_timeout}",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=4",
        "-o",
        "LogLevel=ERROR",
    ]
    for option in cfg.ssh_options:
        argv += ["-o", option]
    return shlex.join(argv)


def run_process(argv: list[str], stdin: str | None, timeout: float) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout:.0f} s"
    except OSError as exc:  # rsync or ssh missing
        return 127, "", f"cannot run {argv[0]}: {exc}"
    return proc.returncode, proc.stdout, proc.stderr


#: rsync's closing lines, which say only that something failed; the lines before them say what.
RSYNC_SUMMARY = ("rsync error:", "rsync: connection unexpectedly closed")


def _rsync_error(rc: int, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    telling = [line for line in lines if not line.startswith(RSYNC_SUMMARY)]
    return f"rsync exit {rc}: {'; '.join(telling[:3]) if telling else (lines[-1] if lines else 'no message')}"


def pull_till(cfg: Config, till: Till, now: datetime, run: Runner = run_process) -> TillResult:
    """List, fetch, verify and prune one till's copies; never raises for a till-side problem."""
    result = TillResult(till)
    if not (SAFE_NAME.match(till.store) and SAFE_NAME.match(till.name)):
        result.error = f"unsafe store or till name {till.store!r}/{till.name!r}"
        return result
    folder = cfg.dest / till.store / till.name
    incoming = folder / INCOMING
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        for stale in incoming.iterdir():  # a killed run's leftovers: fetched again if still wanted
            stale.unlink()
        _pull(cfg, till, now, run, result, folder, incoming)
    except OSError as exc:
        result.success, result.error = False, f"local file error: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug met on one till must not cost the other tills their copies
        result.success, result.error = False, f"internal error: {exc!r}"
    with contextlib.suppress(OSError):
        result.removed = prune(folder, now, cfg.retention_days)
    _summarise(folder, result)
    return result


def _pull(cfg, till, now, run, result, folder, incoming) -> None:
    remote = f"{till.name}:./"  # the host comes from ssh's HostName=; rrsync anchors ./ at the backup folder
    base = ["rsync", f"--timeout={cfg.io_timeout}", "-e", ssh_command(cfg, till)]
    rc, out, err = run([*base, "--list-only", remote], None, cfg.till_timeout)
    if rc != 0:
        result.error = _rsync_error(rc, err)
        return
    wanted = to_fetch(parse_listing(out), held_snapshots(folder), now, cfg.retention_days)
    if wanted:
        rc, _, err = run(
            [*base, "-t", "--files-from=-", remote, f"{incoming}/"],
            "\n".join(wanted) + "\n",
            cfg.till_timeout,
        )
        if rc not in RSYNC_OK:  # what did arrive is complete (rsync renames finished files only): keep it
            result.error = _rsync_error(rc, err)
    for name in snapshot_names(p.name for p in incoming.iterdir()):
        snapshot, sidecar = incoming / name, incoming / (name + CHECKSUM_SUFFIX)
        if sidecar.name in wanted and not sidecar.exists():
            continue  # the till has its checksum file, the transfer failed: not the snapshot's fault
        problem = verify(snapshot)
        if problem is None:
            os.replace(sidecar, folder / sidecar.name)  # checksum first: a visible copy has its checksum
            os.replace(snapshot, folder / name)
            result.pulled.append(name)
            continue
        (folder / REJECTED).mkdir(exist_ok=True)
        for path in (sidecar, snapshot):
            if path.exists():
                os.replace(path, folder / REJECTED / path.name)
                os.utime(folder / REJECTED / path.name)  # kept retention_days from the rejection
        result.rejected.append(f"{name}: {problem}")
    for leftover in incoming.iterdir():  # a failed transfer's part, a checksum file without its snapshot
        if leftover.is_file():
            leftover.unlink()
    fsync_dir(folder)
    if result.rejected:
        rejected = f"{len(result.rejected)} snapshot(s) rejected"
        result.error = f"{result.error}; {rejected}" if result.error else rejected
    if result.error:
        return
    result.success = True
    write_atomically(folder / LAST_SUCCESS, f"{int(now.timestamp())}\n")


def _summarise(folder: Path, result: TillResult) -> None:
    held = held_snapshots(folder)
    result.copies = len(held)
    result.bytes = sum(
        (folder / n).stat().st_size + (folder / (n + CHECKSUM_SUFFIX)).stat().st_size for n in held
    )
    if held:
        stamp = taken_at(held[-1])
        assert stamp is not None
        result.newest_taken_at = stamp[0].timestamp()
    with contextlib.suppress(OSError, ValueError):
        result.last_success_at = float((folder / LAST_SUCCESS).read_text(encoding="ascii").strip())


# --- metrics and the run ---------------------------------------------------------------------------------

#: Per-till gauges: name, TillResult attribute, help text (labels store and till).
METRICS = (
    (
        "opticserp_till_backup_last_run_success",
        "success",
        "1 if the last pull from the till succeeded (reachable, every new snapshot verified), else 0.",
    ),
    (
        "opticserp_till_backup_last_success_timestamp_seconds",
        "last_success_at",
        "Time of the last fully successful pull from the till (0: never).",
    ),
    (
        "opticserp_till_backup_newest_snapshot_timestamp_seconds",
        "newest_taken_at",
        "When the newest good copy held centrally was taken on the till (0: none).",
    ),
    ("opticserp_till_backup_files", "copies", "Good snapshots of the till held centrally."),
    (
        "opticserp_till_backup_bytes",
        "bytes",
        "Bytes of the till's good snapshots held centrally (checksum files included).",
    ),
    (
        "opticserp_till_backup_rejected",
        "rejected",
        "Snapshots of the till the last run rejected (checksum missing or wrong).",
    ),
)
RUN_METRICS = ("opticserp_till_backup_run_timestamp_seconds", "opticserp_till_backup_run_duration_seconds")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(results: list[TillResult], finished_at: float, duration: float) -> str:
    lines = []
    for metric, attr, help_text in METRICS:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for r in sorted(results, key=lambda r: (r.till.store, r.till.name)):
            value = getattr(r, attr)
            value = len(value) if isinstance(value, list) else value
            labels = f'store="{_label(r.till.store)}",till="{_label(r.till.name)}"'
            lines.append(f"{metric}{{{labels}}} {float(value):.15g}")
    timestamp, took = RUN_METRICS
    lines += [
        f"# HELP {timestamp} When the last pull of every till's snapshots finished.",
        f"# TYPE {timestamp} gauge",
        f"{timestamp} {finished_at:.3f}",
        f"# HELP {took} How long the last pull of every till's snapshots took.",
        f"# TYPE {took} gauge",
        f"{took} {duration:.3f}",
    ]
    return "\n".join(lines) + "\n"


def log(level: int, message: str) -> None:
    """One line to the journal with its syslog priority (3 err, 4 warning, 6 info) when run by systemd."""
    prefix = f"<{level}>" if os.environ.get("JOURNAL_STREAM") else ""
    print(f"{prefix}{message}", file=sys.stdout if level > 4 else sys.stderr, flush=True)


def report(r: TillResult) -> None:
    where = f"{r.till.store}/{r.till.name} ({r.till.host}:{r.till.ssh_port})"
    for rejected in r.rejected:
        log(3, f"{where}: rejected {rejected}")
    state = "ok" if r.success else f"FAILED: {r.error}"
    log(
        6 if r.success else 3,
        f"{where}: {state}; pulled {len(r.pulled)}, removed {len(r.removed)}, holding {r.copies}",
    )


def run(cfg: Config, now: datetime | None = None, runner: Runner = run_process) -> list[TillResult]:
    now = now or datetime.now(UTC)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=cfg.parallel) as pool:
        results = list(pool.map(lambda till: pull_till(cfg, till, now, runner), cfg.tills))
    for r in results:
        report(r)
    if cfg.metrics_file is not None:
        write_atomically(
            cfg.metrics_file, metrics_text(results, time.time(), time.monotonic() - started), 0o644
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pull the tills' buffer snapshots (central-till-backups)")
    parser.add_argument("--config", type=Path, default=Path("/etc/opticserp/till-backups.json"))
    args = parser.parse_args(argv)
    try:
        cfg = Config.load(args.config)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log(3, f"cannot read {args.config}: {exc}")
        return 2
    os.umask(0o027)
    results = run(cfg)
    failed = [f"{r.till.store}/{r.till.name}" for r in results if not r.success]
    log(
        3 if failed else 6,
        f"{len(results) - len(failed)} of {len(results)} till(s) pulled"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
