"""The CI skip guard and the suite runner: under CI=true a planted skip fails the run, with its reason.

Runs the real runner (`tests/setup/run-suites.py`, what `make test` calls) on a planted suite in a temporary
directory, once with CI=true and once without, and reads its summary line and exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "setup" / "run-suites.py"

PLANTED = """
import pytest

def test_passes():
    assert True

def test_needs_a_tool():
    pytest.skip("planted: frobnicator is not installed")
"""


def run_planted(tmp_path: Path, ci: str | None, body: str = PLANTED) -> subprocess.CompletedProcess:
    suite = tmp_path / "planted"
    suite.mkdir(exist_ok=True)
    (suite / "test_planted.py").write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, str(RUNNER), "--only", "planted", "--suite", f"planted={suite} -p no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def summary(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stdout.splitlines() if line.startswith("suite planted:")]
    assert lines, done.stdout + done.stderr
    return lines[-1]


def test_a_planted_skip_fails_the_run_under_ci(tmp_path):
    done = run_planted(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert summary(done).startswith("suite planted: 1 passed, 1 failed, 0 skipped (")
    assert "skipped under CI=true" in done.stdout
    assert "planted: frobnicator is not installed" in done.stdout


def test_the_same_skip_is_only_a_skip_outside_ci(tmp_path):
    done = run_planted(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout
    assert summary(done).startswith("suite planted: 1 passed, 0 failed, 1 skipped (")


@pytest.mark.parametrize(
    "body",
    [
        "import pytest\npytestmark = pytest.mark.skipif(True, reason='planted')\ndef test_x():\n    pass\n",
        "import pytest\npytest.importorskip('planted_module_that_does_not_exist')\ndef test_x():\n    pass\n",
        "import pytest\n@pytest.mark.xfail(reason='planted xfail')\ndef test_x():\n    assert False\n",
    ],
    ids=["skipif-marker", "importorskip", "xfail"],
)
def test_every_kind_of_skip_fails_under_ci(tmp_path, body):
    done = run_planted(tmp_path, ci="true", body=body)
    assert done.returncode == 1, done.stdout
    assert "skipped under CI=true" in done.stdout


def test_a_suite_that_collects_nothing_fails(tmp_path):
    done = run_planted(tmp_path, ci=None, body="# no tests here\n")
    assert done.returncode == 1
    assert "no test collected" in summary(done)


def test_without_an_odoo_tree_the_odoo_suite_is_one_line_and_not_a_failure(tmp_path):
    env = {**os.environ, "CI": "true", "ODOO_SRC": str(tmp_path / "no-odoo-here")}
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--only", "odoo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    odoo = [line for line in done.stdout.splitlines() if line.startswith("suite odoo:")]
    assert len(odoo) == 2, done.stdout  # the line as it finishes, and again in the summary
    assert done.returncode == 0, done.stdout
    assert "ODOO_SRC" in odoo[0] or "none yet" in odoo[0]


def test_pytest_run_from_another_folder_with_the_project_settings_starts(tmp_path):
    """What testinfra does under `molecule verify`: pytest from a scenario folder finds the project's
    pytest.ini above it. The settings must not name a plugin only importable from the repository root."""
    (tmp_path / "test_scenario.py").write_text("def test_host():\n    assert True\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTEST_ADDOPTS", "CI"}}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "-p", "no:cacheprovider", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


NESTED = """
import subprocess, sys

def test_nested_pytest_is_guarded_too(tmp_path):
    (tmp_path / "test_inner.py").write_text(
        "import pytest\\ndef test_inner():\\n    pytest.skip('planted inner skip')\\n"
    )
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    print(inner.stdout)
    assert inner.returncode == 0, "inner run passed"
"""


def test_a_pytest_started_inside_a_suite_inherits_the_guard(tmp_path):
    """A nested pytest (molecule → testinfra) from another folder: its skip fails under CI=true too."""
    done = run_planted(tmp_path, ci="true", body=NESTED)
    assert done.returncode == 1, done.stdout
    assert "skipped under CI=true" in done.stdout and "planted inner skip" in done.stdout
