"""The till as a booted system: molecule's scenario (tests/appliance/molecule/default) run step by step.

A Debian 12 container with systemd as PID 1 (systemd-nspawn, own network namespace, slirp4netns) is
converged with ansible/playbooks/till.yml, converged again (molecule's idempotence step fails on any
"changed"), and verified with pytest-testinfra: units, watchdog, sandbox, sockets, firewall, modes,
journal, an end-to-end sale on the emulated KKT, and the watchdog, backup and UPS drills. Prints the
figures of the closing note: fresh converge time, idempotent re-run time, verify time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPLIANCE_TESTS = ROOT / "tests" / "appliance"
BIN = Path(sys.executable).parent
EMULATOR_WHEEL = ROOT / "build" / "emulator-wheel"  # test till only (molecule prepare installs it)
TOOLS = ("debootstrap", "systemd-nspawn", "slirp4netns", "nsenter", "ssh", "journalctl")


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, overlayfs, systemd-nspawn)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing host tools {missing}: run tests/setup/install-deps.sh"
    if not (BIN / "molecule").exists():
        return f"molecule is not installed in {BIN}: pip install -r tests/appliance/requirements.txt"
    return None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=str(_unavailable()))


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )
    took = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-120:])
        raise AssertionError(f"{' '.join(argv)} failed (exit {proc.returncode}) after {took:.1f} s:\n{tail}")
    return took, proc.stdout


def test_till_converges_idempotently_and_passes_verify_and_drills():
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PY_COLORS": "0", "ANSI_COLORS_DISABLED": "1"}
    env.pop("ANSIBLE_CONFIG", None)
    figures: dict[str, float] = {}
    _run([str(ROOT / "appliance" / "build-wheelhouse.sh"), "--emulator", str(EMULATOR_WHEEL)], ROOT, env, 600)
    figures["golden rootfs (cached after the first build)"], _ = _run(
        [str(APPLIANCE_TESTS / "scripts" / "build-rootfs.sh")], ROOT, env, 900
    )
    molecule = [str(BIN / "molecule")]
    try:
        for step in ("destroy", "syntax", "create", "prepare"):
            figures[step], out = _run([*molecule, step], APPLIANCE_TESTS, env, 600)
            if step == "create":
                boot = re.search(r"up in ([0-9.]+)s \(systemd", out)
                if boot:
                    figures["boot to systemd running"] = float(boot.group(1))
        figures["converge (fresh)"], out = _run([*molecule, "converge"], APPLIANCE_TESTS, env, 900)
        figures["idempotent re-run"], out = _run([*molecule, "idempotence"], APPLIANCE_TESTS, env, 600)
        figures["verify + drills"], out = _run([*molecule, "verify"], APPLIANCE_TESTS, env, 900)
        figures_lines = [
            line
            for line in out.splitlines()
            if "drill" in line or "READY" in line or "kiosk:" in line or line.startswith("  [")
        ]
        print("\n" + "\n".join(figures_lines))
    finally:
        subprocess.run([*molecule, "destroy"], cwd=APPLIANCE_TESTS, env=env, check=False, capture_output=True)
    print("\nbooted till (systemd-nspawn, 2-core machine):")
    for name, seconds in figures.items():
        print(f"  {name:<45} {seconds:7.1f} s")
