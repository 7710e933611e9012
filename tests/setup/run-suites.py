#!/usr/bin/env python3
"""Runs every suite ``make test`` promises and ends with one summary line per suite.

Each suite runs even when an earlier one failed: CI has one run per push, and a reviewer needs the whole
picture (a lint slip must not hide a broken crash test). The exit status is non-zero when any suite failed,
ran no test, or — under ``CI=true`` — skipped one (``tests/ci_skip_guard.py``, loaded through the environment
of every pytest it starts, nested ones included, turns skips into failures).

Counts come from pytest's own JUnit XML report (``build/test-reports/<suite>.xml``), not from its terminal
text. The Odoo suite is the one allowed absence: with no Odoo 17 tree (``ODOO_SRC`` unset and no
``/opt/odoo17``) it is announced in one line and does not fail the run.

Usage: ``run-suites.py [--only NAME]... [--suite NAME=PYTEST ARGS]...``. ``--suite`` defines or replaces a
pytest suite (the guard test plants a skipping suite this way).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "build" / "test-reports"
#: Where an extracted Odoo 17 tree is looked for when ODOO_SRC is not set (see docs/odoo-bench.md).
DEFAULT_ODOO_SRC = Path("/opt/odoo17")


@dataclass
class Suite:
    name: str
    #: pytest arguments for a pytest suite; None for a command suite.
    pytest_args: list[str] | None = None
    #: the command of a non-pytest suite (lint, the Odoo bench).
    command: list[str] | None = None


def default_suites() -> list[Suite]:
    make = ["make", "--no-print-directory"]
    return [
        Suite("lint", command=[*make, "lint"]),
        Suite("unit+integration", pytest_args=["tests/unit", "tests/integration"]),
        # Scenarios and benchmarks print their figures (-s): crash test, POC-1/4/5, latency, drain.
        Suite("scenarios", pytest_args=["-s", "tests/poc", "tests/load"]),
        Suite("odoo", command=[*make, "test-odoo"]),
        # The till as a booted system (molecule + testinfra, drills) and the bootable image (qemu). After the
        # Odoo suite: its kiosk test shows the real POS from the database that suite keeps (bench_clean).
        Suite("appliance", pytest_args=["-s", "tests/appliance"]),
    ]


def odoo_tree() -> Path | None:
    src = os.environ.get("ODOO_SRC")
    path = Path(src) if src else DEFAULT_ODOO_SRC
    return path if path.is_dir() else None


def has_make_target(target: str) -> bool:
    probe = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=ROOT, capture_output=True, text=True
    )
    return probe.returncode == 0


def pytest_counts(report: Path) -> dict[str, int] | None:
    """passed/failed/skipped/total from a JUnit XML report (errors count as failures)."""
    if not report.is_file():
        return None
    # Our own pytest wrote this file a moment ago: trusted input.
    root = ET.parse(report).getroot()  # noqa: S314
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return {"total": total, "failed": failed, "skipped": skipped, "passed": total - failed - skipped}


def guarded_env() -> dict[str, str]:
    """The environment of a pytest suite: the skip guard loaded, for it and for every pytest it starts.

    Through the environment rather than ``pytest.ini``: a nested pytest (testinfra under ``molecule verify``)
    runs from its scenario folder yet still finds ``pytest.ini`` above it; an ``-p tests.ci_skip_guard`` there
    would break every hand-run ``molecule verify`` (``tests`` is not importable from that folder), while the
    environment carries the guard, and the path that makes it importable, only into runs started from here.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    addopts = env.get("PYTEST_ADDOPTS", "")
    if "tests.ci_skip_guard" not in addopts:
        env["PYTEST_ADDOPTS"] = f"{addopts} -p tests.ci_skip_guard".strip()
    return env


def run_pytest(suite: Suite) -> tuple[bool, str]:
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{suite.name.replace('+', '-')}.xml"
    report.unlink(missing_ok=True)
    # The project's settings (and with them the skip guard) apply whatever paths a suite names.
    settings = ["-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT)]
    cmd = [sys.executable, "-m", "pytest", *settings, f"--junitxml={report}", *suite.pytest_args]
    print(f"\n=== suite {suite.name}: {shlex.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, cwd=ROOT, env=guarded_env()).returncode
    counts = pytest_counts(report)
    if counts is None:
        return False, f"no report (pytest exit {rc})"
    text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    if counts["total"] == 0:
        return False, f"{text} — no test collected"
    if rc != 0 and counts["failed"] == 0:
        return False, f"{text} — pytest exit {rc}"
    return rc == 0, text


def run_command(suite: Suite) -> tuple[bool, str]:
    print(f"\n=== suite {suite.name}: {shlex.join(suite.command)}", flush=True)
    rc = subprocess.run(suite.command, cwd=ROOT).returncode
    return rc == 0, "ok" if rc == 0 else f"failed (exit {rc})"


def run(suite: Suite) -> tuple[bool | None, str]:
    """(ok, text); ok is None for the one allowed absence (no Odoo tree)."""
    if suite.name == "odoo":
        if not has_make_target("test-odoo"):
            # Before the first addon exists there is no Odoo suite at all; say so rather than stay silent.
            return None, "none yet — no `make test-odoo` target in this tree"
        if odoo_tree() is None:
            return None, (
                f"skipped — no Odoo 17 tree (set ODOO_SRC or extract the 17.0 source to {DEFAULT_ODOO_SRC})"
            )
    return run_pytest(suite) if suite.pytest_args is not None else run_command(suite)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only these suites")
    parser.add_argument(
        "--suite", action="append", default=[], metavar="NAME=ARGS", help="define a pytest suite"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    suites = default_suites()
    for spec in args.suite:
        name, sep, rest = spec.partition("=")
        if not sep or not name or not rest.strip():
            print(f"run-suites: --suite wants NAME=PYTEST ARGS, got {spec!r}", file=sys.stderr)
            return 2
        suites = [s for s in suites if s.name != name] + [Suite(name, pytest_args=shlex.split(rest))]
    if args.only:
        unknown = set(args.only) - {s.name for s in suites}
        if unknown:
            print(f"run-suites: unknown suite(s) {sorted(unknown)}", file=sys.stderr)
            return 2
        suites = [s for s in suites if s.name in args.only]
    lines, failed = [], False
    for suite in suites:
        started = time.monotonic()
        ok, text = run(suite)
        line = f"suite {suite.name}: {text} ({time.monotonic() - started:.0f} s)"
        print(line, flush=True)
        lines.append(line)
        failed |= ok is False
    print("\n=== summary\n" + "\n".join(lines), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
