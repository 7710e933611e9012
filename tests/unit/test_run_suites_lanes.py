"""The suite runner's lanes: suites side by side keep their output whole and their own verdicts.

Runs the real ``Runner`` of tests/setup/run-suites.py on small command suites (shell one-liners)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.setup import odoo_bench

RUNNER = Path(__file__).resolve().parents[2] / "tests" / "setup" / "run-suites.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("run_suites", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_suites"] = module
    spec.loader.exec_module(module)
    return module


def shell(module, name: str, script: str):
    return module.Suite(name, command=["sh", "-c", script])


def test_lanes_run_side_by_side_and_each_suites_output_stays_whole(capsys, tmp_path, monkeypatch):
    rs = load_runner()
    monkeypatch.setattr(rs, "REPORTS", tmp_path)

    # Each of a and b waits (up to 10 s) for the other to have started: run one after the other, the
    # first would give up and fail.
    def meeting(me: str, other: str, rc: int) -> str:
        return (
            f"echo {me}-1; touch {tmp_path}/{me}; n=0; "
            f"while [ ! -e {tmp_path}/{other} ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; "
            f"[ -e {tmp_path}/{other} ] || exit 9; echo {me}-2; sleep 0.1; echo {me}-3; exit {rc}"
        )

    a = shell(rs, "a", meeting("a", "b", 0))
    b = shell(rs, "b", meeting("b", "a", 3))
    c = shell(rs, "c", "echo c-1")
    runner = rs.Runner()
    runner.stage([[a, c], [b]])
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in ("a", "b"):
        mine = [i for i, line in enumerate(lines) if line.startswith(f"{name}-")]
        assert mine == list(range(mine[0], mine[0] + 3)), out  # never interleaved with the other lane
    assert runner.results["a"][0] is True and runner.results["c"][0] is True
    assert runner.results["b"] == (False, runner.results["b"][1]) and "exit 3" in runner.results["b"][1]
    assert lines.index("c-1") > lines.index("a-3")  # a lane's suites run in order


def test_a_single_lane_streams_to_the_terminal(capfd, tmp_path, monkeypatch):
    rs = load_runner()
    monkeypatch.setattr(rs, "REPORTS", tmp_path)
    rs.Runner().stage([[shell(rs, "only", "echo streamed")]])
    assert "streamed" in capfd.readouterr().out
    assert not (tmp_path / "only.log").exists()  # nothing buffered when it runs alone


def test_the_default_plan_keeps_benchmarks_alone_and_the_kiosk_after_the_odoo_suite():
    rs = load_runner()
    plan = rs.default_plan()
    *side_by_side, last = plan
    assert all(len(stage) == 1 for stage in [last])  # benchmarks: one lane, nothing beside them
    assert {s.name for lane in last for s in lane} == {"benchmarks", "odoo-benchmarks"}
    lanes = side_by_side[0]
    lane = next(lane for lane in lanes if any(s.name == "appliance" for s in lane))
    names = [s.name for s in lane]
    assert names.index("odoo") < names.index("appliance")  # the kiosk needs the database odoo keeps
    odoo = next(s for s in lane if s.name == "odoo")
    assert "--no-benchmarks" in odoo.command and odoo_bench.CLEAN_DB == "bench_clean"
