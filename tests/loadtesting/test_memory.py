"""The stress test's memory verdict: growth of the server's RSS from the end of warm-up to the end.

Pure arithmetic (loadtesting.memory, .scenarios, .verdict.checks): none of these import locust,
gevent or psutil, so they are safe in the pytest process. The real timeline is tested end to end in
tests/e2e/test_loadtest_stress.py.
"""

import sys

import pytest

from loadtesting import memory
from loadtesting.scenarios import Overrides, resolve
from loadtesting.verdict import checks

STEADY_START, END = 10.0, 130.0  # 10 s of ramp-up, then two minutes of steady state


def series(mb_at) -> list[list[float]]:
    """A sample every 2 s from t = 0 to the end, as the sampler writes it."""
    return [[float(t), mb_at(t)] for t in range(0, int(END) + 1, 2)]


def noise(t: float) -> float:
    return (-1.5, 0.0, 2.0, 0.5)[int(t // 2) % 4]  # ± a couple of MB, as real RSS does


def server_with(timeline: list) -> dict:
    return {"rss_growth": memory.growth(timeline, steady_start=STEADY_START, end=END)}


def test_growth_of_a_flat_series_is_near_zero_and_passes():
    # given: 300 MB give or take a few, after a ramp-up that doubled it
    timeline = series(lambda t: (150 + 15 * t if t < STEADY_START else 300) + noise(t))

    # when
    measured = memory.growth(timeline, steady_start=STEADY_START, end=END)

    # then: the ramp-up is not growth
    assert abs(measured["growth_pct"]) < 2
    assert 298 < measured["warm_mb"] < 302
    assert measured["steady_samples"] == 61  # t = 10, 12, ..., 130
    assert measured["window_samples"] == 15
    assert abs(measured["slope_mb_per_min"]) < 1
    assert memory.is_flat(measured, 25) is True


def test_growth_of_a_leaking_series_fails():
    # given: 1 MB more every second, for ever
    timeline = series(lambda t: 200 + t + noise(t))

    # when
    measured = memory.growth(timeline, steady_start=STEADY_START, end=END)

    # then: medians of the first and last quarters of the steady state (t = 10-38 and 102-130)
    assert measured["warm_mb"] == pytest.approx(224, abs=2)
    assert measured["end_mb"] == pytest.approx(316, abs=2)
    assert 38 < measured["growth_pct"] < 46  # (316 - 224) / 224, give or take the noise
    assert measured["slope_mb_per_min"] == pytest.approx(60, abs=2)
    assert memory.is_flat(measured, 25) is False
    assert memory.is_flat(measured, 50) is True


def test_one_spike_at_the_end_is_not_a_leak():
    # given: flat, with one sample caught in the middle of a large response
    timeline = series(lambda t: 300 + (400 if t == 126 else 0))

    measured = memory.growth(timeline, steady_start=STEADY_START, end=END)

    assert measured["growth_pct"] == 0
    assert memory.is_flat(measured, 25) is True


def test_a_worker_replaced_mid_run_counts_from_the_live_tree():
    # given: a worker died at t = 60 (its memory gone), its replacement grew back to the same size
    timeline = series(lambda t: 300 if t < 60 or t > 80 else 240 + (t - 60) * 3)

    measured = memory.growth(timeline, steady_start=STEADY_START, end=END)

    assert measured["growth_pct"] == 0


def test_too_few_steady_samples_are_not_judged():
    timeline = [[0.0, 100.0], [11.0, 120.0], [60.0, 500.0], [129.0, 900.0]]

    measured = memory.growth(timeline, steady_start=STEADY_START, end=END)

    assert measured is None
    assert memory.is_flat(measured, 25) is None
    stress = resolve("stress", Overrides()).thresholds
    assert checks.memory_checks(stress, {"rss_growth": measured}) == []
    assert "too few in the steady state" in memory.memory_line(measured, len(timeline))


def test_stress_judges_memory_with_its_default_and_the_override():
    leaking = server_with(series(lambda t: 200 + 2 * t))
    stress = resolve("stress", Overrides()).thresholds

    # when
    [check] = checks.memory_checks(stress, leaking)

    # then: a failing threshold, so exit 1
    assert stress.max_rss_growth_pct == 25
    assert check.kind == "threshold"
    assert check.label.startswith("server memory flat after warm-up: RSS +")
    assert check.label.endswith("(limit <= 25 %)")
    assert check.passed is False
    assert check.limit == 25
    assert checks.exit_code([check]) == 1

    # and --max-rss-growth-pct moves the limit
    relaxed = resolve("stress", Overrides(max_rss_growth_pct=200)).thresholds
    [check] = checks.memory_checks(relaxed, leaking)
    assert check.passed is True
    assert relaxed.as_dict()["max_rss_growth_pct"] == 200


def test_other_scenarios_report_memory_without_judging_it():
    leaking = server_with(series(lambda t: 200 + 2 * t))

    for name in ("quick", "standard", "custom"):
        assert checks.memory_checks(resolve(name, Overrides()).thresholds, leaking) == []
    # a --host on another machine has no server figures at all
    assert checks.memory_checks(resolve("stress", Overrides()).thresholds, None) == []


def test_memory_line_reads_like_the_figures():
    measured = {"warm_mb": 120.0, "end_mb": 123.0, "growth_pct": 2.5}

    assert (
        memory.memory_line(measured, 40)
        == "Server memory: 120 MB after warm-up -> 123 MB at the end (+2.5 %)"
    )


def test_sampling_interval_is_a_few_seconds():
    assert memory.timeline_interval(20) == 1.0
    assert memory.timeline_interval(180) == 3.0
    assert memory.timeline_interval(600) == 5.0


def test_the_memory_arithmetic_does_not_bring_locust_along():
    assert "locust" not in sys.modules
