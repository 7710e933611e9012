#!/usr/bin/env python3
"""Runs every suite ``make test`` promises and ends with one summary line per suite.

Each suite runs even when an earlier one failed: CI has one run per push, and a reviewer needs the whole
picture (a lint slip must not hide a broken crash test). The exit status is non-zero when any suite failed,
ran no test, or — under ``CI=true`` — skipped one (``tests/ci_skip_guard.py``, loaded through the environment
of every pytest it starts, nested ones included, turns skips into failures).

Suites run in stages (``default_plan``). Within a stage, lanes run side by side and the suites of a lane one
after another: the correctness suites (no timed target) share the machine's two cores, while the benchmarks,
whose figures need the machine to themselves, run alone in the last stage. A suite running beside another
writes its output to ``build/test-reports/<suite>.log``, printed whole when it ends (never interleaved).

Counts come from pytest's own JUnit XML report (``build/test-reports/<suite>.xml``), not from its terminal
text. The Odoo suites are the one allowed absence: with no Odoo 17 tree (``ODOO_SRC`` unset and no
``/opt/odoo17``) each is announced in one line and does not fail the run.

Usage: ``run-suites.py [--only NAME]... [--suite NAME=PYTEST ARGS]...``. ``--suite`` defines or replaces a
pytest suite (the guard test plants a skipping suite this way); a new one runs alone after the plan.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

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
    #: runs only where an Odoo 17 tree is (announced in one line, not failed, where none is).
    needs_odoo: bool = False


#: A stage is a list of lanes run side by side; a lane is a list of suites run one after another.
Plan = list[list[list[Suite]]]


def default_plan() -> Plan:
    make = ["make", "--no-print-directory"]
    bench = [sys.executable, "tests/setup/odoo_bench.py"]
    lint = Suite("lint", command=[*make, "lint"])
    unit = Suite("unit+integration", pytest_args=["tests/unit", "tests/integration"])
    # The scenarios print their figures (-s): crash test, POC-1/4/5, the monitoring drill.
    poc = Suite("scenarios", pytest_args=["-s", "tests/poc"])
    # The bootable image under qemu.
    image = Suite("image", pytest_args=["-s", "tests/appliance/test_image.py"])
    # Install tests and the real-server scenarios; keeps bench_clean for the kiosk and the Odoo benchmarks.
    odoo = Suite("odoo", command=[*bench, "--no-benchmarks"], needs_odoo=True)
    # The till as a booted system (molecule + testinfra, drills). After the Odoo suite: its kiosk test
    # shows the real POS from the database that suite keeps (bench_clean). Last of its lane, after the image:
    # the kiosk's kill -9 drill has a 10 s limit, which a converging central server beside it pushed over
    # (10.3 s). The central suite is then at its end or done (8ea4a37's CI: it ended 3 min into this one).
    till = Suite("appliance", pytest_args=["-s", "tests/appliance/test_booted_till.py"])
    # The central server as a booted system: converge, idempotence, testinfra, the disaster-recovery drill.
    # It runs Odoo from the Odoo tree, so it is announced, not run, where none is.
    central = Suite("central", pytest_args=["-s", "tests/appliance/test_booted_central.py"], needs_odoo=True)
    benchmarks = Suite("benchmarks", pytest_args=["-s", "tests/load"])
    odoo_benchmarks = Suite("odoo-benchmarks", command=[*bench, "--benchmarks-only"], needs_odoo=True)
    return [
        # Correctness only, two lanes side by side on two cores (~33 and ~38 min in CI;
        # claude_history/2026-12-06-central-server.md has the figures).
        [[lint, unit, poc, central], [odoo, image, till]],
        # Timed targets: alone, one after another.
        [[benchmarks, odoo_benchmarks]],
    ]


def odoo_tree() -> Path | None:
    src = os.environ.get("ODOO_SRC")
    path = Path(src) if src else DEFAULT_ODOO_SRC
    return path if path.is_dir() else None


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


def run_pytest(suite: Suite, out: TextIO | None) -> tuple[bool, str]:
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{slug(suite)}.xml"
    report.unlink(missing_ok=True)
    # The project's settings (and with them the skip guard) apply whatever paths a suite names.
    settings = ["-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT)]
    cmd = [sys.executable, "-m", "pytest", *settings, f"--junitxml={report}", *suite.pytest_args]
    print(f"\n=== suite {suite.name}: {shlex.join(cmd)}", file=out or sys.stdout, flush=True)
    rc = subprocess.run(
        cmd, cwd=ROOT, env=guarded_env(), stdout=out, stderr=out and subprocess.STDOUT
    ).returncode
    counts = pytest_counts(report)
    if counts is None:
        return False, f"no report (pytest exit {rc})"
    text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    if counts["total"] == 0:
        return False, f"{text} — no test collected"
    if rc != 0 and counts["failed"] == 0:
        return False, f"{text} — pytest exit {rc}"
    return rc == 0, text


def run_command(suite: Suite, out: TextIO | None) -> tuple[bool, str]:
    print(f"\n=== suite {suite.name}: {shlex.join(suite.command)}", file=out or sys.stdout, flush=True)
    rc = subprocess.run(suite.command, cwd=ROOT, stdout=out, stderr=out and subprocess.STDOUT).returncode
    return rc == 0, "ok" if rc == 0 else f"failed (exit {rc})"


def run(suite: Suite, out: TextIO | None = None) -> tuple[bool | None, str]:
    """(ok, text); ok is None for the one allowed absence (no Odoo tree). ``out``: where the suite's
    output goes (a file while it runs beside another suite; the terminal when None)."""
    if suite.needs_odoo and odoo_tree() is None:
        return (
            None,
            f"skipped — no Odoo 17 tree (set ODOO_SRC or extract the 17.0 source to {DEFAULT_ODOO_SRC})",
        )
    return run_pytest(suite, out) if suite.pytest_args is not None else run_command(suite, out)


def slug(suite: Suite) -> str:
    return suite.name.replace("+", "-")


class Runner:
    """Runs a plan: its stages in order, the lanes of a stage side by side; keeps one line per suite."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[bool | None, str]] = {}
        self.lock = threading.Lock()  # one suite's output block at a time on the terminal

    def suite(self, suite: Suite, beside_others: bool) -> None:
        started = time.monotonic()
        if not beside_others:
            ok, text = run(suite)
            self.finish(suite, ok, f"{text} ({time.monotonic() - started:.0f} s)")
            return
        REPORTS.mkdir(parents=True, exist_ok=True)
        log = REPORTS / f"{slug(suite)}.log"
        with self.lock:
            print(
                f"\n=== suite {suite.name}: started beside other suites; its output follows when it ends",
                flush=True,
            )
        try:
            with open(log, "w", encoding="utf-8") as out:
                ok, text = run(suite, out)
        except (OSError, subprocess.SubprocessError, ET.ParseError) as exc:  # fails this suite, not the lane
            ok, text = False, f"runner error: {exc!r}"
        with self.lock:
            sys.stdout.write(log.read_text(encoding="utf-8", errors="replace") if log.is_file() else "")
            self.finish(suite, ok, f"{text} ({time.monotonic() - started:.0f} s)")

    def finish(self, suite: Suite, ok: bool | None, text: str) -> None:
        self.results[suite.name] = (ok, text)
        print(f"suite {suite.name}: {text}", flush=True)

    def lane(self, suites: list[Suite], beside_others: bool) -> None:
        for suite in suites:
            self.suite(suite, beside_others)

    def stage(self, lanes: list[list[Suite]]) -> None:
        lanes = [lane for lane in lanes if lane]
        if len(lanes) == 1:
            self.lane(lanes[0], beside_others=False)
            return
        threads = [threading.Thread(target=self.lane, args=(lane, True)) for lane in lanes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only these suites")
    parser.add_argument(
        "--suite", action="append", default=[], metavar="NAME=ARGS", help="define a pytest suite"
    )
    return parser.parse_args(argv)


def suites_of(plan: Plan) -> list[Suite]:
    return [suite for stage in plan for lane in stage for suite in lane]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    plan = default_plan()
    for spec in args.suite:
        name, sep, rest = spec.partition("=")
        if not sep or not name or not rest.strip():
            print(f"run-suites: --suite wants NAME=PYTEST ARGS, got {spec!r}", file=sys.stderr)
            return 2
        defined = Suite(name, pytest_args=shlex.split(rest))
        if name in {s.name for s in suites_of(plan)}:
            plan = [[[defined if s.name == name else s for s in lane] for lane in stage] for stage in plan]
        else:
            plan.append([[defined]])
    if args.only:
        unknown = set(args.only) - {s.name for s in suites_of(plan)}
        if unknown:
            print(f"run-suites: unknown suite(s) {sorted(unknown)}", file=sys.stderr)
            return 2
        plan = [[[s for s in lane if s.name in args.only] for lane in stage] for stage in plan]
    runner = Runner()
    for stage in plan:
        runner.stage(stage)
    order = [s.name for s in suites_of(plan) if s.name in runner.results]
    print("\n=== summary\n" + "\n".join(f"suite {n}: {runner.results[n][1]}" for n in order), flush=True)
    return 1 if any(runner.results[n][0] is False for n in order) else 0


if __name__ == "__main__":
    sys.exit(main())
