"""UPS drill — runs last: it powers the till off. NUT's dummy UPS goes "OB LB" (on battery, low battery);
upsmon runs kkt-ups-shutdown, which drains the adapter (new receipts refused with 503 shutting_down, the
buffer checkpointed) and then powers off. The order is read back from the till's persistent journal,
which outlives the poweroff in the container's overlay."""

from __future__ import annotations

import subprocess
import time

import requests

from conftest import SCRIPTS


def test_low_battery_refuses_receipts_checkpoints_then_powers_off_in_order(host, till):
    assert host.run("upsc ups@localhost ups.status").stdout.strip() == "OL"
    assert till.sell().status_code == 200
    flipped_at = time.monotonic()
    status_file = "printf 'ups.status: OB LB\\nbattery.charge: 4\\nbattery.runtime: 60\\n' > /etc/nut/kkt-ups.dev"
    assert host.run(status_file).rc == 0

    # The POS keeps selling: accepted until the drain begins, then refused with 503 shutting_down.
    refused = None
    while refused is None and time.monotonic() - flipped_at < 120:
        try:
            resp = till.sell(timeout=10)
        except requests.RequestException:
            break  # the till went down before we saw a refusal (checked below)
        if resp.status_code == 503:
            refused = resp
        else:
            assert resp.status_code == 200, resp.text
            time.sleep(0.2)
    assert refused is not None, "no receipt was refused before the till went away"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "shutting_down"

    wait = subprocess.run(
        [str(SCRIPTS / "till-wait-exit.sh"), till.name, "120"], capture_output=True, text=True, check=False
    )
    assert wait.returncode == 0, f"the till did not power off: {wait.stderr}"
    off_at = time.monotonic()

    journal_dir = till.instance_dir / "upper" / "var" / "log" / "journal"
    journal = subprocess.run(
        ["journalctl", "-D", str(journal_dir), "-b", "-0", "--no-pager", "-o", "short-monotonic"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    steps = [
        "set FSD on UPS",
        "UPS event LOWBATT",
        "UPS shutdown: draining the KKT adapter",
        "drain: refusing new receipts",
        "drain: checkpoint done",
        "drain: final checkpoint done",
        "drain finished: adapter drained",
        "powering off: systemctl poweroff",
        "System is powering down",
        "Stopping kkt-adapter.service",
        "Stopped kkt-adapter.service",
    ]
    positions = []
    for step in steps:
        found = [i for i, line in enumerate(journal) if step in line]
        assert found, f"{step!r} not in the journal:\n" + "\n".join(journal[-80:])
        positions.append(found[0])
    assert positions == sorted(positions), "\n".join(journal[i] for i in positions)
    print(f"\nUPS drill: OB LB -> powered off in {off_at - flipped_at:.1f} s; journal order:")
    for i in positions:
        print("  " + journal[i])
