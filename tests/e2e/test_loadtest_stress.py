"""End to end: a short `loadtest stress` reports the server's memory over time, judges that it is
flat after warm-up, and runs the recovery probe.

A subprocess, like tests/e2e/test_loadtest.py (whose helpers are reused): locust must never enter
the pytest process. The arithmetic of the growth is tested in tests/loadtesting/test_memory.py.
"""

import pytest

from tests.e2e.test_loadtest import SMALL, assert_printed, loadtest, verdict_of

pytestmark = pytest.mark.e2e

# Loose latency (this machine may be busy); the recovery probe keeps quick's 0 % errors unless
# --max-error-rate says otherwise, and its p95 follows --max-p95-ms.
LOOSE = ["--max-p95-ms", "10000", "--max-p99-ms", "10000", "--max-error-rate", "5"]


def assert_memory_timeline(server: dict) -> None:
    """A sample a second over the master and its two workers."""
    timeline = server["rss_timeline"]
    assert len(timeline) >= 10
    assert [t for t, _ in timeline] == sorted(t for t, _ in timeline)
    assert all(mb > 0 for _, mb in timeline)
    assert timeline[-1][0] >= 20
    assert server["timeline_interval_s"] == 1.0
    assert len(server["uss_timeline"]) == len(timeline)  # Linux: USS is readable
    assert {row["role"] for row in server["processes_at_end"]} == {"master", "worker"}


def assert_memory_growth_judged(verdict: dict, stdout: str) -> None:
    """The growth after warm-up, judged against the default limit, in the verdict and printed."""
    server = verdict["server"]
    growth = server["rss_growth"]
    assert growth["steady_samples"] >= 8
    assert server["rss_growth_pct"] == growth["growth_pct"]
    assert server["rss_growth_pct"] <= 25
    assert verdict["options"]["thresholds"]["max_rss_growth_pct"] == 25
    [memory] = [
        check
        for check in verdict["thresholds"]
        if check["label"].startswith("server memory flat after warm-up")
    ]
    assert memory == {
        "kind": "threshold",
        "label": memory["label"],
        "measured": server["rss_growth_pct"],
        "limit": 25,
        "pass": True,
        "exit_code_on_failure": 1,
    }
    assert memory in verdict["checks"]
    assert (
        f"Server memory: {growth['warm_mb']:g} MB after warm-up -> {growth['end_mb']:g} MB "
        f"at the end ({growth['growth_pct']:+.1f} %)"
    ) in stdout


def assert_recovered(verdict: dict) -> None:
    """/health, then 10 users that meet quick's verdict again."""
    recovery = verdict["recovery"]
    assert "skipped" not in recovery
    assert recovery["health"]["ok"] is True
    assert recovery["users"] == 10
    assert recovery["total"]["requests"] > 0
    assert recovery["checks"] and all(check["pass"] for check in recovery["checks"])
    recovered = [check for check in verdict["checks"] if check["kind"] == "recovery"]
    assert len(recovered) == 1 + len(recovery["checks"])
    assert all(check["pass"] for check in recovered)


def test_stress_reports_flat_memory_and_recovers(env, tmp_path):
    results = tmp_path / "results"

    # when
    run = loadtest(
        env, "stress", "--users", "20", "--spawn-rate", "10", "--run-time", "20s",
        *LOOSE, "--results-dir", str(results), *SMALL,
    )  # fmt: skip

    # then: it passed, and said so
    assert run.returncode == 0, run.stdout + run.stderr
    verdict = verdict_of(results, "stress")
    assert_printed(verdict, run.stdout)

    # the memory timeline, its growth after warm-up, and the service recovered
    assert_memory_timeline(verdict["server"])
    assert_memory_growth_judged(verdict, run.stdout)
    assert_recovered(verdict)
    assert verdict["audit"]["ok"] is True
    assert verdict["exit_code"] == 0
