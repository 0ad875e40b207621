"""End to end: `loadtest capacity` on a small step schedule, as a subprocess (no locust in the
pytest process), through the wrapper script; the verdict's `capacity` object, the audit, the
report page and the exit status."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_capacity_steps_users_up_and_reports_the_last_step_within_the_slo(env, tmp_path):
    results = tmp_path / "results"
    env = {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
    # --run-time 12s: four 3 s steps of 10, 20, 30 and 40 users at most (--users 40); a loose
    # SLO, so that this machine's speed decides only where the search stops, not whether it ran.
    run = subprocess.run(
        ["./scripts/run_load_tests.sh", "capacity", "--run-time", "12s", "--users", "40",
         "--max-p95-ms", "5000", "--server-workers", "2", "--results-dir", str(results)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    [path] = [p for p in results.glob("capacity_*.json") if not p.name.endswith("_samples.json")]
    verdict = json.loads(path.read_text())
    capacity = verdict["capacity"]

    steps = capacity["steps"]
    assert 1 <= len(steps) <= 4
    assert [step["users"] for step in steps] == [10, 20, 30, 40][: len(steps)]
    assert capacity["schedule"] == {
        "start_users": 10, "step_users": 10, "step_s": 3.0, "max_users": 40,
        "measured_share": 0.667,
    }  # fmt: skip
    assert capacity["slo"] == {"max_p95_ms": 5000.0, "max_error_rate_pct": 1.0}
    for step in steps:
        assert step["requests"] > 0 and step["rps"] > 0
        assert step["slo_met"] == (step["p95_ms"] < 5000 and step["error_rate_pct"] < 1)
    knee = next(step for step in steps if step["users"] == capacity["max_users"])
    assert knee["slo_met"]
    assert (capacity["max_rps"], capacity["p95_ms_at_max"]) == (knee["rps"], knee["p95_ms"])
    assert capacity["stopped_because"] == verdict["stop_reason"]
    assert any(
        word in capacity["stopped_because"]
        for word in ("SLO broke", "stopped growing", "user cap", "time cap")
    )
    kinds = {check["kind"]: check["pass"] for check in verdict["checks"]}
    assert kinds["capacity"] and kinds["oversell"]
    assert verdict["exit_code"] == 0 and verdict["audit"]["ok"]
    for step in steps:
        assert f"Capacity step: {step['users']} users" in run.stdout

    page = Path(verdict["reports"]["html"]).read_text()
    assert 'id="capacity-summary"' in page and 'id="chart-capacity"' in page
    samples = json.loads(Path(verdict["reports"]["samples"]).read_text())
    assert [users for _, users in samples["steps"]] == [step["users"] for step in steps][
        : len(samples["steps"])
    ]
