"""The collection of the tills' buffer snapshots on the booted central server (central_till_backups).

Needs till-01 of the test store up: the till container ``till-bk`` (``tests/appliance/scripts/till-up.sh
till-bk 22421``) prepared by ``tests/appliance/central/till-for-backups.yml`` — real snapshots of 10, 2, 1
and 0 days ago taken by the adapter's backup code, the 2-day-old one with a wrong ``.sha256``; the read-only
``kkt-backup-pull`` account holding the central server's key. till-02 and till-03 are not up.

``central-till-backups.service`` is started twice, as the timer would: the first run pulls till-01's
good snapshots of the last 7 days (checksums recomputed here), rejects the damaged one, and fails because of
it and of the unreachable tills — whose failure stops nothing. The till's key can do nothing but read its
backup folder. The damaged snapshot is then removed on the till and old copies are planted: the next run
succeeds for till-01, removes its copy older than 7 days and keeps the newest, and keeps the only copy of
till-02 however old (the last good copy of an unreachable till). The textfile metrics say all of it.
"""

from __future__ import annotations

import calendar
import os
import re
import shlex
import time
from pathlib import Path

import pytest
import testinfra

REPO_ROOT = Path(__file__).resolve().parents[4]
DEST = "/srv/backup/tills/900"
METRICS = "/var/lib/prometheus/node-exporter/opticserp_till_backups.prom"
TILL_BK_PORT = int(os.environ.get("TILL_BK_SSH_PORT", "22421"))
SNAPSHOT = re.compile(r"^buffer-(\d{8}T\d{6}Z)(?:-\d+)?\.db$")
DAY = 86400


def stamp_epoch(name: str) -> float:
    """The UTC time in a snapshot's name (what retention goes by), as epoch seconds."""
    return float(calendar.timegm(time.strptime(SNAPSHOT.match(name)[1], "%Y%m%dT%H%M%SZ")))


def stamp_name(epoch: float) -> str:
    return "buffer-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch)) + ".db"


def held(host, till: str) -> list[str]:
    listing = host.run("ls -1 %s", f"{DEST}/{till}").stdout.split()
    return sorted(n for n in listing if SNAPSHOT.match(n))


def digest_ok(host, path: str) -> bool:
    expected = host.file(path + ".sha256").content_string.split()
    return bool(expected) and expected[0] == host.file(path).sha256sum


def metrics(host) -> dict[tuple[str, str | None], float]:
    values = {}
    for line in host.file(METRICS).content_string.splitlines():
        match = re.match(r'^(opticserp_till_backup_\w+)(?:\{store="900",till="([\w-]+)"\})? (\S+)$', line)
        if match:
            values[(match[1], match[2])] = float(match[3])
    return values


def pull(host) -> tuple[int, str]:
    """One run of the service as the timer starts it; its exit status and what it logged."""
    since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
    rc = host.run("systemctl start central-till-backups.service").rc
    log = host.check_output("journalctl -u central-till-backups.service --since %s -o cat --no-pager", since)
    return rc, log


@pytest.fixture(scope="module")
def till():
    """The till container itself (root over its forwarded sshd), to repair it between runs."""
    return testinfra.get_host(
        f"ssh://root@127.0.0.1:{TILL_BK_PORT}",
        ssh_identity_file=str(REPO_ROOT / "build/appliance/ssh/id_ed25519"),
        ssh_extra_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes",
    )


@pytest.fixture(scope="module")
def first_run(host):
    host.run_test("rm -rf %s", DEST)  # earlier runs of this test
    rc, log = pull(host)
    return {"rc": rc, "log": log, "metrics": metrics(host), "now": time.time()}


@pytest.fixture(scope="module")
def second_run(host, till, first_run):
    """Repair the till (its damaged snapshot moved away, put back afterwards so the test can run again),
    plant expired copies, run again."""
    backups, aside = "/var/lib/kkt-adapter/backups", "/var/tmp/till-bk-damaged"
    damaged = [n for n in host.run("ls -1 %s/till-01/rejected", DEST).stdout.split() if SNAPSHOT.match(n)]
    assert len(damaged) == 1
    till.run_test(
        "mkdir -p %s && mv %s %s %s", aside, *(f"{backups}/{damaged[0]}{s}" for s in ("", ".sha256")), aside
    )
    newest = held(host, "till-01")[-1]
    planted = {"till-01": stamp_name(time.time() - 9 * DAY), "till-02": stamp_name(time.time() - 20 * DAY)}
    for name, copy in planted.items():
        folder = f"{DEST}/{name}"
        script = (
            f"mkdir -p {folder} && cp {DEST}/till-01/{newest} {folder}/{copy}"
            f" && echo \"$(sha256sum < {folder}/{copy} | cut -d' ' -f1)  {copy}\" > {folder}/{copy}.sha256"
            f" && touch -d '@{int(stamp_epoch(copy))}' {folder}/{copy} {folder}/{copy}.sha256"
            f" && chown -R till-backups:till-backups {folder}"
        )
        host.run_test("sh -c %s", script)
    try:
        rc, log = pull(host)
        yield {"rc": rc, "log": log, "metrics": metrics(host), "planted": planted, "newest": newest}
    finally:
        till.run_test("mv %s/* %s/ && rmdir %s", aside, backups, aside)  # mv keeps owner, mode and ACL


def test_the_timer_runs_daily_after_the_tills(host):
    shown = host.check_output(
        "systemctl show central-till-backups.timer"
        " -p UnitFileState -p ActiveState -p TimersCalendar -p Persistent"
    )
    assert "UnitFileState=enabled" in shown and "ActiveState=active" in shown
    assert "OnCalendar=*-*-* 05:00:00" in shown and "Persistent=yes" in shown
    # The role's drop-in makes the destination the one writable folder besides the service's state.
    assert "/srv/backup/tills" in host.check_output(
        "systemctl show central-till-backups.service -p ReadWritePaths"
    )


def test_first_run_pulls_the_good_snapshots_with_their_checksums(host, first_run):
    copies = held(host, "till-01")
    assert len(copies) == 2, (copies, first_run["log"])  # 1 day old and fresh: not the 10-day-old one
    for name in copies:
        assert first_run["now"] - stamp_epoch(name) < 7 * DAY
        assert digest_ok(host, f"{DEST}/till-01/{name}"), name
        copy = host.file(f"{DEST}/till-01/{name}")
        assert (copy.user, copy.group, copy.mode) == ("till-backups", "till-backups", 0o640)


def test_the_damaged_snapshot_is_rejected_not_kept(host, first_run):
    rejected = [n for n in host.run("ls -1 %s/till-01/rejected", DEST).stdout.split() if SNAPSHOT.match(n)]
    assert len(rejected) == 1 and rejected[0] not in held(host, "till-01")
    assert not digest_ok(host, f"{DEST}/till-01/rejected/{rejected[0]}")
    assert f"rejected {rejected[0]}: checksum mismatch" in first_run["log"]
    assert first_run["metrics"][("opticserp_till_backup_rejected", "till-01")] == 1
    assert first_run["metrics"][("opticserp_till_backup_last_run_success", "till-01")] == 0


def test_unreachable_tills_fail_the_run_but_stop_nothing(first_run):
    assert first_run["rc"] != 0
    for name, port in (("till-02", 22431), ("till-03", 22441)):
        assert re.search(
            rf"900/{name} \(10\.0\.2\.2:{port}\): FAILED: rsync exit \d+: ssh: connect", first_run["log"]
        )
        assert first_run["metrics"][("opticserp_till_backup_last_run_success", name)] == 0
        assert first_run["metrics"][("opticserp_till_backup_files", name)] == 0
    assert first_run["metrics"][("opticserp_till_backup_files", "till-01")] == 2


def test_the_tills_key_only_reads_its_backup_folder(host, first_run):
    key = "/var/lib/till-backups/.ssh/id_ed25519"
    ssh = (
        f"ssh -F none -i {key} -p {TILL_BK_PORT} -l kkt-backup-pull -o BatchMode=yes"
        " -o UserKnownHostsFile=/var/lib/till-backups/.ssh/known_hosts -o HostName=10.0.2.2"
    )
    as_user = "runuser -u till-backups -- "
    # The host key was pinned by the first run (accept-new) and is checked from then on.
    assert (
        "[10.0.2.2]:22421 ssh-ed25519" in host.file("/var/lib/till-backups/.ssh/known_hosts").content_string
    )
    shell = host.run(as_user + ssh + " till cat /etc/passwd")
    assert shell.rc != 0 and "root:" not in shell.stdout and "does not run rsync" in shell.stderr
    up = host.run(as_user + f"rsync -e {shlex.quote(ssh)} till:../buffer.db /tmp/")
    assert up.rc != 0 and "do not use .. in arg" in up.stderr
    write = host.run(as_user + f"rsync -e {shlex.quote(ssh)} /etc/hostname till:./")
    assert write.rc != 0 and "read-only server" in write.stderr


def test_metrics_reach_node_exporter(host, first_run):
    assert host.file(METRICS).is_symlink
    assert host.file(METRICS).linked_to == "/var/lib/till-backups/metrics/opticserp_till_backups.prom"
    assert (
        first_run["metrics"][("opticserp_till_backup_run_timestamp_seconds", None)] > first_run["now"] - 600
    )
    if host.service("prometheus-node-exporter").is_running:  # the whole central server, not the role alone
        scraped = host.check_output(
            "python3 -c %s",
            "import urllib.request as u; print(u.urlopen('http://127.0.0.1:9100/metrics').read().decode())",
        )
        assert 'opticserp_till_backup_files{store="900",till="till-01"} 2' in scraped


def test_next_run_succeeds_and_keeps_seven_days_but_the_last_good_copy(host, second_run):
    assert second_run["rc"] != 0  # till-02 and till-03 are still down
    m = second_run["metrics"]
    assert m[("opticserp_till_backup_last_run_success", "till-01")] == 1, second_run["log"]
    assert time.time() - m[("opticserp_till_backup_last_success_timestamp_seconds", "till-01")] < 600
    # till-01: the planted 9-day-old copy is gone, the two recent ones (the newest included) stay.
    copies = held(host, "till-01")
    assert second_run["planted"]["till-01"] not in copies
    assert len(copies) == 2 and copies[-1] == second_run["newest"]
    assert not host.file(f"{DEST}/till-01/{second_run['planted']['till-01']}.sha256").exists
    assert m[("opticserp_till_backup_newest_snapshot_timestamp_seconds", "till-01")] == stamp_epoch(
        copies[-1]
    )
    # till-02 has been unreachable: its only copy, 20 days old, is kept.
    assert held(host, "till-02") == [second_run["planted"]["till-02"]]
    assert m[("opticserp_till_backup_files", "till-02")] == 1
    assert m[("opticserp_till_backup_newest_snapshot_timestamp_seconds", "till-02")] == stamp_epoch(
        second_run["planted"]["till-02"]
    )
    # The damaged copy stays in rejected/ for a look (removed after 7 days).
    assert len(host.run("ls -1 %s/till-01/rejected", DEST).stdout.split()) == 2
