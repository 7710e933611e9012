"""Prometheus alert rules: promtool lints and unit-tests them; each metric they use is exported."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitoring" / "rules" / "till.rules.yml"
TESTS = ROOT / "monitoring" / "tests" / "till.rules.test.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: make deps installs prometheus"
)


@needs_promtool
def test_rules_are_valid():
    done = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_rules_fire_exactly_when_their_unit_tests_say():
    done = subprocess.run(
        [PROMTOOL, "test", "rules", TESTS.name], cwd=TESTS.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_uses_exported_metrics():
    # Runbook pages of the alerts: tests/unit/test_runbooks.py.
    text = RULES.read_text(encoding="utf-8")
    exported = (ROOT / "appliance" / "kkt_adapter" / "web" / "metrics.py").read_text(encoding="utf-8")
    for name in set(re.findall(r"\b(kkt_[a-z_]+)\b", text)):
        assert f'"{name}"' in exported, f"{name} is used by an alert but not exported"
