"""The Odoo bench's verdict comes from Odoo's own log: counts, skips and ERROR lines parsed right.

The lines below are copied from a real run of tests/setup/odoo_bench.py against Odoo 17.0 (a probe addon
with a passing, a failing and a skipped test)."""

from __future__ import annotations

import pytest

from tests.setup import odoo_bench

RESULT = (
    "2026-12-04 08:15:47,351 10198 INFO bench_x odoo.tests.result: "
    "0 failed, 0 error(s) of 3 tests when loading database 'bench_x' "
)
SKIP = (
    "2026-12-04 08:15:33,871 10198 INFO bench_x odoo.addons.bench_probe.tests.test_probe: "
    "skipped TestSkip.test_skipped : probe "
)
ERROR = (
    "2026-12-04 08:14:57,119 9954 ERROR bench_x odoo.addons.bench_probe.tests.test_probe: "
    "FAIL: TestProbe.test_x"
)
STARTING = (
    "2026-12-04 08:15:02,592 9954 INFO bench_x odoo.addons.bench_probe.tests.test_probe: Starting TestSkip"
)


def test_counts_come_from_the_last_result_line_and_the_skip_and_error_lines():
    text = "\n".join(
        [STARTING, SKIP, ERROR, RESULT.replace("0 failed", "1 failed").replace("of 3", "of 2"), RESULT]
    )
    counts = odoo_bench.parse_log(text)
    assert (counts.run, counts.failed, counts.errors, counts.skipped, counts.logged_errors) == (3, 0, 0, 1, 1)


def test_a_log_without_a_result_line_is_an_error_not_zero_tests():
    with pytest.raises(odoo_bench.BenchError, match="no test result line"):
        odoo_bench.parse_log("\n".join([STARTING, ERROR]))


def test_a_message_mentioning_skipped_is_not_a_skip():
    noise = "2026-12-04 08:15:02,592 9954 INFO bench_x odoo.modules.loading: 3 modules skipped : none"
    assert odoo_bench.parse_log("\n".join([noise, RESULT])).skipped == 0


def test_the_bench_venv_gets_the_libraries_addons_pin_in_their_requirements():
    """One pin per library: addons/<addon>/requirements.txt, read by the Makefile and by the bench."""
    pins = odoo_bench.addon_requirements()
    assert "openpyxl==3.1.5" in pins  # connector_b's engine (Odoo 17 ships xlrd/XlsxWriter only)
    assert all(pin and not pin.startswith("#") and "==" in pin for pin in pins)


def test_oca_modules_are_pinned_wheels_installed_without_their_odoo_requirement(monkeypatch):
    """addons/oca-requirements.txt: exact pins of odoo-addon-* wheels; pip gets them with --no-deps, since
    each declares `odoo` (which pip would fetch from PyPI over the source tree)."""
    pins = odoo_bench.oca_requirements()
    assert "odoo-addon-l10n_ru==17.0.1.0.1.2" in pins  # ru_accounting_extras' chart
    assert all(pin.startswith("odoo-addon-") and "==17.0." in pin for pin in pins)
    calls = []
    monkeypatch.setattr(odoo_bench, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(odoo_bench, "BENCH", odoo_bench.Path("/nonexistent-bench"))
    monkeypatch.setattr(odoo_bench.shutil, "rmtree", lambda *a, **kw: None)
    stamp_writes = []
    monkeypatch.setattr(odoo_bench.Path, "write_text", lambda self, text: stamp_writes.append(text))
    monkeypatch.setattr(odoo_bench.Path, "read_bytes", lambda self: b"odoo requirements")
    odoo_bench.ensure_venv(odoo_bench.Path("/nonexistent-src"))
    [oca] = [cmd for cmd in calls if any(arg.startswith("odoo-addon-") for arg in cmd)]
    assert "--no-deps" in oca and set(pins) <= set(oca)
    assert stamp_writes, "the venv's inputs are stamped once built"


def test_each_error_record_is_kept_with_the_end_of_its_traceback_for_the_final_summary():
    traceback = [
        "Traceback (most recent call last):",
        '  File "/x/test_probe.py", line 9, in test_x',
        "    self.assertEqual(1, 2)",
        "AssertionError: 1 != 2",
    ]
    counts = odoo_bench.parse_log("\n".join([STARTING, ERROR, *traceback, STARTING, RESULT]))
    assert counts.excerpts == ("\n".join([ERROR, *(f"    {line.strip()}" for line in traceback)]),)


def test_a_long_error_line_is_shortened_in_the_excerpt():
    long_error = ERROR + " x" * 400
    (excerpt,) = odoo_bench.parse_log("\n".join([long_error, RESULT])).excerpts
    assert len(excerpt) == odoo_bench.EXCERPT_WIDTH + 2 and excerpt.endswith(" …")
