"""UPS drill — runs last: it powers the till off. NUT's dummy UPS goes "OB LB" (on battery, low battery);
upsmon runs kkt-ups-shutdown, which drains the adapter (new receipts refused with 503 shutting_down, the
receipt being printed finishes, the buffer is checkpointed) and then powers off. The order is read back
from the till's persistent journal, which outlives the poweroff in the container's overlay."""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import requests
from conftest import SCRIPTS

EMULATOR = "/opt/kkt-emulator/venv/bin/kkt-emulator"


def _sell_quietly(till) -> requests.Response | None:
    try:
        return till.sell(timeout=30)
    except requests.RequestException:
        return None  # the till went down under this request


def _status(future: Future) -> int | None:
    resp = future.result()
    return resp.status_code if resp is not None else None


PRINT_SECONDS = 6  # longer than upsmon's poll (2 s) + FINALDELAY (1 s): the drain finds it printing


def test_low_battery_refuses_receipts_checkpoints_then_powers_off_in_order(host, till):
    assert host.run("upsc ups@localhost ups.status").stdout.strip() == "OL"
    assert till.sell().status_code == 200
    # The next receipt takes PRINT_SECONDS to print (emulator fault): it is in flight when power fails.
    fault = f"fault slow --command FF45 --seconds {PRINT_SECONDS}"
    slow = host.run(f"{EMULATOR} ctl --state-dir /var/lib/kkt-emulator {fault}")
    assert slow.rc == 0, slow.stderr
    in_flight: dict = {}
    seller = threading.Thread(target=lambda: in_flight.update(resp=till.sell(timeout=60)))
    seller.start()
    time.sleep(0.5)
    flipped_at = time.monotonic()
    status_file = (
        "printf 'ups.status: OB LB\\nbattery.charge: 4\\nbattery.runtime: 60\\n' > /etc/nut/kkt-ups.dev"
    )
    assert host.run(status_file).rc == 0

    # The POS keeps selling, a new sale every 0.3 s without waiting for the previous one (a cashier at a
    # second POS): accepted until the drain begins, then refused with 503 shutting_down at once, while
    # the slow receipt is still printing.
    results: list = []
    with ThreadPoolExecutor(max_workers=32) as pos:
        pending = []
        while time.monotonic() - flipped_at < 60 and not any(f.done() and _status(f) == 503 for f in pending):
            pending.append(pos.submit(_sell_quietly, till))
            time.sleep(0.3)
        results = [f.result() for f in pending]
    refused = next((r for r in results if r is not None and r.status_code == 503), None)
    assert refused is not None, "no receipt was refused before the till went away"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "shutting_down"
    accepted = [r for r in results if r is not None and r.status_code != 503]
    assert all(r.status_code in (200, 202) for r in accepted), [r.text for r in accepted]
    seller.join(60)
    assert in_flight["resp"].status_code == 200 and in_flight["resp"].json()["status"] == "printed"

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
        '"POST /v1/kkt/receipt HTTP/1.1" 503',
        "drain: in-flight done",
        "drain: checkpoint done",
        "drain: final checkpoint done",
        "drain finished: adapter drained",
        "powering off: systemctl poweroff",
        "System is powering down",
        "Stopping kkt-adapter.service",
        "Stopped kkt-adapter.service",
    ]
    # Each step must appear after the previous one (earlier drills also stopped the adapter).
    positions: list[int] = []
    for step in steps:
        start = positions[-1] + 1 if positions else 0
        found = next((i for i in range(start, len(journal)) if step in journal[i]), None)
        assert found is not None, f"{step!r} not in the journal after the previous step:\n" + "\n".join(
            journal[start : start + 80]
        )
        positions.append(found)
    print(f"\nUPS drill: OB LB -> powered off in {off_at - flipped_at:.1f} s; journal order:")
    for i in positions:
        print("  " + journal[i])
