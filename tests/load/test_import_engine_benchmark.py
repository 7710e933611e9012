"""Benchmark: connector_b's import engine on a 100,000-row supplier price list (target: peak RSS <= 300 MB).

The lists are generated at test time in a temp dir, never committed (tests/kit/supplier_samples.py): an
xlsx of 8 columns, half its prices numbers and half text with NBSP and a decimal comma, and the same list
as a cp1251 CSV with ``;``; about 0.8 % of the rows are bad (zero price, wrong EAN). The engine runs end to
end — open, stream, normalise, validate, compute retail prices, classify against a 100,000-entry lookup of
today's prices — in a child process that reports its own time and peak RSS (``VmHWM``). The anchor,
measured in the same run on the same file, is the bare read: openpyxl's read-only iteration (xlsx) and
``csv.reader`` (CSV), also in a child. ``IMPORT_BENCH_ROWS`` (default 100000) and ``IMPORT_BENCH_REPEAT``
(default 1: the xlsx pair alone takes ~25 s on the CI machine) set the size and the runs (medians printed).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("IMPORT_BENCH_ROWS", "100000"))
REPEAT = int(os.environ.get("IMPORT_BENCH_REPEAT", "1"))
#: The issue's limit for the engine alone on 100,000 rows.
PEAK_RSS_LIMIT_MB = 300


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(mode: str, path: str, rows: int) -> dict:
    """One measurement in this (child) process: ``engine`` or ``anchor`` on ``path``."""
    if mode == "anchor":
        started = time.perf_counter()
        if path.endswith(".xlsx"):
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
            book.close()
        else:
            import csv

            with open(path, encoding="cp1251", newline="") as text:
                count = sum(1 for _ in csv.reader(text, delimiter=";"))
        return {"seconds": time.perf_counter() - started, "rows": count - 1, "peak_mb": _peak_mb()}
    from tests.kit.connector_engine import engine
    from tests.kit.supplier_samples import LARGE_PROFILE, large_current_prices

    prices = large_current_prices(rows)
    profile = engine.Profile.from_dict(LARGE_PROFILE)
    before_mb = _peak_mb()
    started = time.perf_counter()
    run = engine.ImportRun(path, profile, prices=prices)
    chunks = sum(1 for _ in run)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": run.counters.rows,
        "chunks": chunks,
        "lookup": len(prices),
        "counters": run.counters.as_dict(),
        "before_mb": before_mb,
        "peak_mb": _peak_mb(),
    }


def measure(mode: str, path: Path) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.load.test_import_engine_benchmark", mode, str(path), str(ROWS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def expected_rejected(rows: int) -> int:
    return sum(1 for i in range(rows) if i % 211 == 0 or i % 307 == 0)


@pytest.fixture(scope="module")
def price_lists(tmp_path_factory):
    from tests.kit.supplier_samples import write_large_csv, write_large_xlsx

    folder = tmp_path_factory.mktemp("import-bench")
    started = time.perf_counter()
    xlsx, text = folder / "price-100k.xlsx", folder / "price-100k.csv"
    write_large_xlsx(xlsx, ROWS)
    write_large_csv(text, ROWS)
    print(f"\ngenerated {ROWS} rows as xlsx and CSV in {time.perf_counter() - started:.1f} s")
    return {"xlsx": xlsx, "CSV": text}


@pytest.mark.slow
def test_import_engine_100k_rows(price_lists):
    results = {}
    for name, path in price_lists.items():
        engines = [measure("engine", path) for _ in range(REPEAT)]
        anchors = [measure("anchor", path) for _ in range(REPEAT)]
        results[name] = (path, engines, anchors)

    print(f"\nIMPORT ENGINE: {ROWS} rows, median of {REPEAT} run(s) each, child processes")
    print(f"  {'':<6}{'file MB':>8}{'engine s':>10}{'rows/s':>9}{'anchor s':>10}{'rows/s':>9}{'ratio':>7}"
          f"{'RSS MB':>8}{'anchor RSS':>11}")  # fmt: skip
    for name, (path, engines, anchors) in results.items():
        engine_s = statistics.median(r["seconds"] for r in engines)
        anchor_s = statistics.median(r["seconds"] for r in anchors)
        peak = max(r["peak_mb"] for r in engines)
        print(
            f"  {name:<6}{path.stat().st_size / 1e6:>8.1f}{engine_s:>10.2f}{ROWS / engine_s:>9.0f}"
            f"{anchor_s:>10.2f}{ROWS / anchor_s:>9.0f}{engine_s / anchor_s:>7.2f}{peak:>8.0f}"
            f"{max(r['peak_mb'] for r in anchors):>11.0f}"
        )
    counters = results["xlsx"][1][0]["counters"]
    print(f"  verdicts: {', '.join(f'{k} {v}' for k, v in counters.items() if k not in ('rows', 'chunks'))}")
    print(
        f"  RSS before the engine (interpreter, openpyxl, {results['xlsx'][1][0]['lookup']} prices): "
        f"{results['xlsx'][1][0]['before_mb']:.0f} MB; ratio = engine time / bare read time of the same file"
    )

    for name, (_path, engines, anchors) in results.items():
        for result in engines:
            assert result["rows"] == ROWS and result["chunks"] == -(-ROWS // 1000), name
            assert result["lookup"] == ROWS
            assert result["counters"]["rejected"] == expected_rejected(ROWS), name
            assert result["counters"]["accepted"] + result["counters"]["rejected"] == ROWS
            assert result["counters"]["held"] > 0 and result["counters"]["new"] > 0
            assert result["peak_mb"] <= PEAK_RSS_LIMIT_MB, f"{name}: peak RSS {result['peak_mb']:.0f} MB"
        assert all(a["rows"] == ROWS for a in anchors), name


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
