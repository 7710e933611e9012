"""Drills on the booted till: a frozen adapter is restarted by the systemd watchdog without losing a
receipt, and a buffer snapshot restored into a freshly provisioned till gives back the same receipts.
Figures (watchdog reaction, restart time) are printed; run with -s to see them."""

from __future__ import annotations

import time

import requests

WATCHDOG_SEC = 30
RESTART_SEC = 5


def _wait(predicate, timeout: float, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def _live(till) -> bool:
    try:
        return requests.get(till.api + "/v1/health/live", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_watchdog_restarts_a_frozen_adapter_and_no_receipt_is_lost(host, till):
    sold = [till.sell().json()["receipt_id"] for _ in range(3)]
    props = host.service("kkt-adapter").systemd_properties
    pid, restarts = props["MainPID"], int(props["NRestarts"])
    since = host.run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()

    frozen_at = time.monotonic()
    assert host.run("systemctl kill --signal=SIGSTOP kkt-adapter.service").rc == 0
    assert not _live(till), "a frozen adapter still answered"

    def restarted():
        p = host.service("kkt-adapter").systemd_properties
        return (
            int(p["NRestarts"]) > restarts and p["MainPID"] not in (pid, "0") and p["SubState"] == "running"
        )

    _wait(restarted, WATCHDOG_SEC + RESTART_SEC + 30)
    _wait(lambda: _live(till), 30)
    back_at = time.monotonic()
    journal = host.run(f"journalctl -u kkt-adapter --since '{since}' --no-pager -o short-monotonic").stdout
    assert "Watchdog timeout" in journal, journal[-2000:]
    # The container shares the host's kernel, so its monotonic journal stamps are on our clock.
    timeout_at = next(
        float(line.split("]")[0].strip("[ ")) for line in journal.splitlines() if "Watchdog timeout" in line
    )
    print(
        f"\nwatchdog drill: watchdog fired {timeout_at - frozen_at:.1f} s after the freeze "
        f"(WatchdogSec={WATCHDOG_SEC}); answering again {back_at - frozen_at:.1f} s after it "
        f"(+ RestartSec={RESTART_SEC} + start)"
    )
    assert 0 < timeout_at - frozen_at <= WATCHDOG_SEC + 1
    assert back_at - frozen_at <= WATCHDOG_SEC + RESTART_SEC + 30

    receipts = {r["receipt_id"]: r for r in till.receipts()}
    for receipt_id in sold:
        assert receipts[receipt_id]["fiscal_status"] == "printed", receipts.get(receipt_id)
    after = till.sell()
    assert after.status_code == 200 and after.json()["status"] == "printed"


def test_backup_restored_into_a_fresh_till_gives_the_same_receipts(host, till):
    for _ in range(2):
        assert till.sell().status_code == 200
    before = sorted(till.receipts(), key=lambda r: r["receipt_id"])
    assert host.run("systemctl start kkt-backup.service").rc == 0
    snap = host.run("ls -1t /var/lib/kkt-adapter/backups/buffer-*.db | head -n 1").stdout.strip()
    assert snap, "kkt-backup.service wrote no snapshot"
    # Take the snapshot off the till, as an engineer would before replacing its disk.
    assert host.run(f"mkdir -p /root/off-till && cp {snap} {snap}.sha256 /root/off-till/").rc == 0

    # A fresh till: the state is gone (new disk); the adapter starts once with an empty buffer.
    stop = "systemctl stop kkt-adapter kkt-sync.timer kkt-sync.service kkt-backup.timer kkt-backup.service"
    assert host.run(stop).rc == 0
    assert host.run("rm -rf /var/lib/kkt-adapter").rc == 0
    assert host.run("systemctl start kkt-adapter").rc == 0
    _wait(lambda: _live(till), 60)
    assert till.receipts() == []
    assert host.run(stop).rc == 0

    # The runbook's steps (runbooks/restore-till-from-backup.md): copy in, check, restore, start.
    name = snap.rsplit("/", 1)[1]
    copy_in = (
        "install -d -o kkt -g kkt -m 0750 /var/lib/kkt-adapter/backups && "
        f"install -o kkt -g kkt -m 0640 /root/off-till/{name} /root/off-till/{name}.sha256 "
        "/var/lib/kkt-adapter/backups/"
    )
    assert host.run(copy_in).rc == 0
    check = host.run(f"runuser -u kkt -- kktctl restore --check /var/lib/kkt-adapter/backups/{name}")
    assert check.rc == 0 and "integrity   ok" in check.stdout, check.stdout + check.stderr
    restore = host.run(f"runuser -u kkt -- kktctl restore /var/lib/kkt-adapter/backups/{name}")
    assert restore.rc == 0, restore.stdout + restore.stderr
    assert "previous    empty" in restore.stdout, restore.stdout
    start = "systemctl start kkt-adapter kkt-sync.timer kkt-backup.timer"
    assert host.run(start).rc == 0
    _wait(lambda: _live(till), 60)

    after = sorted(till.receipts(), key=lambda r: r["receipt_id"])
    assert after == before
    assert till.sell().status_code == 200  # and the till sells again
