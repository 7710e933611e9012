"""pytest plugin: under ``CI=true`` a skipped test is a failed test, with the skip's reason.

A suite that skips because a prerequisite is missing (root, promtool, shellcheck, systemd-analyze…) proves
nothing, and a green run that skipped is a lie told to the reviewer. CI installs every prerequisite
(``tests/setup/install-deps.sh``), so under ``CI=true`` this plugin turns every kind of skip into a failure:
``pytest.skip()`` in a test or fixture, ``skipif``/``skip`` markers, ``pytest.importorskip`` and module-level
skips at collection, and ``xfail`` outcomes (an expected failure is a skip in disguise). Outside CI skips
stay skips, so a developer's laptop without root can still run what it can.

Loaded by the suite runner (``make test``) through ``PYTEST_ADDOPTS=-p tests.ci_skip_guard`` for every
pytest it starts, nested ones included (testinfra under ``molecule verify``); by hand, run
``CI=true pytest -p tests.ci_skip_guard …`` from the repository root. The only skip CI allows — the Odoo
suites on a machine with no Odoo tree — is decided by the suite runner (``tests/setup/run-suites.py``)
before pytest starts, never by a skip inside a suite.
"""

from __future__ import annotations

import os

import pytest

#: How CI announces itself (GitHub Actions, GitLab CI and our ``.ci/run`` environment all set it).
CI_VARIABLE = "CI"


def ci_enabled() -> bool:
    return os.environ.get(CI_VARIABLE, "").strip().lower() in {"true", "1", "yes"}


def _reason(report) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail ({report.wasxfail or 'no reason given'})"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail(report, what: str) -> None:
    reason = _reason(report)
    report.outcome = "failed"
    remedy = (
        "Fix the defect the xfail hides, or remove the test."
        if hasattr(report, "wasxfail")
        else "Install the prerequisite (tests/setup/install-deps.sh) instead of skipping."
    )
    report.longrepr = (
        f"{what} skipped under {CI_VARIABLE}=true — a skip is a failure in CI: {reason}\n{remedy}"
    )
    if hasattr(report, "wasxfail"):
        del report.wasxfail


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if ci_enabled() and report.skipped:
        _fail(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if ci_enabled() and report.skipped:
        _fail(report, collector.nodeid or str(collector.path))


def pytest_report_header(config):
    if ci_enabled():
        return f"{CI_VARIABLE}=true: every skip fails the run (tests/ci_skip_guard.py)"
    return None
