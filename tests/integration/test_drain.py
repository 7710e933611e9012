"""UPS drain: ``POST /v1/kkt/drain``, ``kktctl drain`` and ``appliance/ups/kkt-ups-shutdown`` (NUT's
SHUTDOWNCMD) against the real adapter and the emulator on a pty.

While a receipt is being fiscalized (emulator ``--sign-delay``) a drain lets it finish, refuses the next one
with 503 ``shutting_down``, checkpoints the WAL, and logs its steps in order. The shutdown script drains, then
runs the poweroff command (a stand-in here), logging through ``logger -t kkt-ups`` (a stand-in on PATH).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import POS_ID, sale_body
from tests.kit.devstack import BIN, AdapterProcess

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "appliance" / "ups" / "kkt-ups-shutdown"
SIGN_DELAY = 1.0  # seconds each printing command takes on the emulator before its answer
DRAIN_LINES = (
    "drain: refusing new receipts",
    "drain: in-flight done",
    "drain: checkpoint done",
    "drain: last sync done",
    "drain: final checkpoint done",
    "drain: complete",
)


def drain_log(adapter: AdapterProcess) -> list[str]:
    text = (adapter.workdir / "adapter.log").read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if "drain: " in line]


def assert_in_order(lines: list[str], expected: tuple[str, ...]) -> None:
    positions = []
    for marker in expected:
        found = [i for i, line in enumerate(lines) if marker in line]
        assert found, f"{marker!r} not logged; got {lines}"
        positions.append(found[0])
    assert positions == sorted(positions), f"steps out of order: {lines}"


def wal_size(adapter: AdapterProcess) -> int:
    wal = adapter.db_path.with_name(adapter.db_path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.fixture
def slow_adapter(tmp_path, emulator_factory):
    emulator = emulator_factory(sign_delay=SIGN_DELAY)
    proc = AdapterProcess(tmp_path / "adapter", emulator.port, pos_id=POS_ID).start()
    yield proc
    proc.stop()


def test_drain_finishes_the_receipt_in_flight_then_refuses_and_checkpoints(slow_adapter):
    adapter = slow_adapter
    assert adapter.post_receipt(sale_body()).status_code == 200  # opens the shift (also a print)
    in_flight: dict = {}

    def sell() -> None:
        resp = adapter.post_receipt(sale_body())
        in_flight.update(status=resp.status_code, body=resp.json(), done=time.monotonic())

    seller = threading.Thread(target=sell)
    seller.start()
    deadline = time.monotonic() + 10
    while not requests.get(
        adapter.url + "/v1/kkt/receipts",
        params={"fiscal_status": "printing"},
        headers=adapter.admin(),
        timeout=5,
    ).json():
        assert time.monotonic() < deadline, "the receipt never started printing"
        time.sleep(0.02)

    drained: dict = {}

    def drain() -> None:
        resp = requests.post(adapter.url + "/v1/kkt/drain", headers=adapter.admin(), timeout=60)
        drained.update(status=resp.status_code, body=resp.json(), done=time.monotonic())

    drainer = threading.Thread(target=drain)
    drainer.start()
    while not requests.get(adapter.url + "/v1/health", timeout=5).json()["draining"]:
        assert time.monotonic() < deadline + 10, "the drain never began"
        time.sleep(0.01)
    refused = adapter.post_receipt(sale_body())
    refused_at = time.monotonic()
    shift = requests.post(adapter.url + "/v1/kkt/shift/close", timeout=5)
    seller.join(30)
    drainer.join(60)

    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "shutting_down"
    assert shift.status_code == 503 and shift.json()["code"] == "shutting_down"  # no Z report mid-shutdown
    assert in_flight["status"] == 200 and in_flight["body"]["status"] == "printed"
    assert refused_at < in_flight["done"], "the refusal came while the receipt was still printing"
    assert drained["status"] == 200 and drained["done"] >= in_flight["done"]
    body = drained["body"]
    assert body["status"] == "drained" and body["already_draining"] is False
    steps = {s["step"]: s for s in body["steps"]}
    assert list(steps) == ["refuse_new_receipts", "in_flight", "checkpoint", "last_sync", "final_checkpoint"]
    assert steps["in_flight"]["completed"] is True and steps["in_flight"]["seconds"] > 0.2
    assert steps["last_sync"]["result"] == "done"
    final = steps["final_checkpoint"]
    assert final["busy"] == 0 and final["wal_bytes_after"] == 0
    assert steps["checkpoint"]["wal_bytes_before"] > 0  # the receipt just printed was folded in
    assert wal_size(adapter) == 0  # TRUNCATE: everything is in buffer.db
    assert_in_order(drain_log(adapter), DRAIN_LINES)

    again = requests.post(adapter.url + "/v1/kkt/drain", headers=adapter.admin(), timeout=60)
    assert again.status_code == 200  # idempotent
    assert again.json()["already_draining"] is True and again.json()["status"] == "drained"
    assert requests.post(adapter.url + "/v1/kkt/drain", timeout=5).status_code == 401  # admin only
    health = requests.get(adapter.url + "/v1/health", timeout=5).json()
    assert health["draining"] is True and health["status"] != "healthy"


def test_drain_bounds_fit_the_callers_timeouts():
    """The adapter's worst-case drain ends before kktctl's HTTP timeout and the script's own limit."""
    from kkt_adapter.cli.kktctl import build_parser
    from kkt_adapter.config import Config

    cfg = Config()
    worst = cfg.drain.in_flight_timeout_seconds + cfg.drain.sync_timeout_seconds
    worst += 2 * cfg.buffer.busy_timeout_ms / 1000  # two checkpoints, each bounded by the busy timeout
    http_timeout = build_parser().parse_args(["drain"]).timeout
    script_limit = re.search(r"KKT_UPS_DRAIN_TIMEOUT:-(\d+)", SCRIPT.read_text())
    assert worst < http_timeout < int(script_limit[1])


# --- the NUT shutdown script -------------------------------------------------------------------------


@pytest.fixture
def adapter(tmp_path, kkt_emulator):
    proc = AdapterProcess(tmp_path / "adapter", kkt_emulator.port, pos_id=POS_ID).start()
    yield proc
    proc.stop()


def test_shutdown_script_is_posix_sh_and_lint_clean():
    assert SCRIPT.read_text().startswith("#!/bin/sh\n# kkt-ups-shutdown")
    assert os.access(SCRIPT, os.X_OK)
    assert subprocess.run(["/bin/sh", "-n", str(SCRIPT)], capture_output=True).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    lint = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def run_script(adapter: AdapterProcess, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run kkt-ups-shutdown with stand-ins for ``logger`` and the poweroff command; return its log."""
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    log = tmp_path / "kkt-ups.log"
    logger = stubs / "logger"
    # Records the tag and the message like journald would (`logger -t TAG -- MESSAGE`).
    logger.write_text(f'#!/bin/sh\n[ "$1" = -t ] && [ "$3" = -- ] || exit 2\necho "$2: $4" >> {log}\n')
    poweroff = stubs / "poweroff"
    poweroff.write_text(f'#!/bin/sh\necho "poweroff requested: $*" >> {log}\n')
    for stub in (logger, poweroff):
        stub.chmod(0o755)
    env = adapter.env() | {
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "KKT_UPS_KKTCTL": str(BIN / "kktctl"),
        "KKT_UPS_USER": "",  # the test runs as itself; on the till it is `runuser -u kkt`
        "KKT_UPS_POWEROFF": f"{poweroff} --no-wall",  # arguments are passed on, as to systemctl
    }
    result = subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    return result, log.read_text().splitlines() if log.exists() else []


def test_ups_script_drains_then_powers_off(adapter, tmp_path):
    assert adapter.post_receipt(sale_body()).status_code == 200
    result, lines = run_script(adapter, tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(line.startswith("kkt-ups: ") for line in lines[:-1]), lines
    assert lines[-1] == "poweroff requested: --no-wall"
    assert_in_order(
        lines,
        (
            "UPS shutdown: draining the KKT adapter",
            "drain finished: adapter drained",
            "kktctl: drain: drained",
            "powering off",
            "poweroff requested",
        ),
    )
    assert adapter.post_receipt(sale_body()).json()["code"] == "shutting_down"
    assert wal_size(adapter) == 0
    # In the adapter's log the refusal, the checkpoint and the end of the drain come in that order.
    assert_in_order(drain_log(adapter), DRAIN_LINES)


def test_ups_script_powers_off_even_with_the_adapter_down(adapter, tmp_path):
    for _ in range(3):
        assert adapter.post_receipt(sale_body()).status_code == 200
    adapter.kill9()  # a crashed adapter leaves a WAL behind
    assert wal_size(adapter) > 0
    direct = subprocess.run(
        [str(BIN / "kktctl"), "drain"], env=adapter.env(), capture_output=True, text=True, timeout=60
    )
    assert direct.returncode == 3
    assert "buffer checkpointed directly" in direct.stderr
    assert wal_size(adapter) == 0
    result, lines = run_script(adapter, tmp_path)
    assert result.returncode == 0
    assert_in_order(lines, ("draining the KKT adapter", "adapter unreachable", "poweroff requested"))
