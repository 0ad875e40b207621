"""The verdict phase (loadtesting.verdict): the figures' arithmetic, each threshold's pass and
fail, the exit code (2 beats 1), and --compare. Plain data in, no locust."""

import sys

import pytest

from loadtesting.exit_codes import FAILED, OVERSOLD, PASSED
from loadtesting.load.recorder import FAILURE, OK, STOCK_OUT
from loadtesting.scenarios import QUICK_THRESHOLDS, Thresholds
from loadtesting.verdict import checks, compare, figures

START = 1_000.0


def samples(name: str, times: list[float], *, at: float = START + 10, outcome: int = OK) -> list:
    return [(at + i * 0.01, name, ms, outcome) for i, ms in enumerate(times)]


def test_figures_are_exact_over_the_steady_state():
    # given: 10 s of ramp-up (excluded from latency and RPS), then 100 requests in 10 s
    ramp = samples("GET /products/", [5000.0] * 5, at=START)
    steady = samples("GET /products/", [float(ms) for ms in range(1, 101)])

    rows, total = figures.figures(ramp + steady, steady_start=START + 10, end=START + 20)

    assert total["requests"] == 105  # all of them
    assert total["steady_requests"] == 100
    assert (total["p50_ms"], total["p95_ms"], total["p99_ms"], total["max_ms"]) == (50, 95, 99, 100)
    assert total["avg_ms"] == 50.5
    assert total["rps"] == 10.0
    assert rows == [{**total, "method": "GET", "name": "/products/"}]


def test_stock_outs_count_in_the_denominator_not_as_failures():
    run = (
        samples("POST /orders/", [10.0] * 6)
        + samples("POST /orders/", [10.0] * 3, outcome=STOCK_OUT)
        + samples("POST /orders/", [10.0], outcome=FAILURE)
    )

    _, total = figures.figures(run, steady_start=START, end=START + 10)

    assert (total["requests"], total["failures"], total["stock_outs"]) == (10, 1, 3)
    assert total["error_rate_pct"] == 10.0


def test_endpoints_are_sorted_by_name_then_method_and_empty_runs_are_zero():
    run = samples("POST /products/", [1.0]) + samples("GET /products/", [2.0])
    rows, _ = figures.figures(run, steady_start=START, end=START + 10)
    assert [(row["name"], row["method"]) for row in rows] == [
        ("/products/", "GET"),
        ("/products/", "POST"),
    ]

    rows, total = figures.figures([], steady_start=START, end=START)
    assert rows == []
    assert (total["requests"], total["p95_ms"], total["rps"], total["error_rate_pct"]) == (
        0,
        0,
        0,
        0,
    )


def _row(name: str, p95: float, steady: int) -> dict:
    return {"method": "GET", "name": name, "p95_ms": p95, "steady_requests": steady}


def test_per_endpoint_p95_judges_only_endpoints_with_50_samples():
    rows = [_row("/a", 150.0, 50), _row("/b", 900.0, 49)]
    total = {"p95_ms": 99.0, "error_rate_pct": 0.0, "requests": 99, "failures": 0}
    total["steady_requests"] = 99

    found = checks.threshold_checks(QUICK_THRESHOLDS, rows, total)

    labels = [(check.label.split(":")[0], check.passed) for check in found]
    assert labels == [
        ("p95 of GET /a", False),  # judged, too slow
        ("p95 of all requests", True),  # /b (49 samples) is reported, not judged
        ("error rate", True),
    ]
    assert found[0].measured == 150.0 and found[0].limit == 100


@pytest.mark.parametrize(
    ("limit", "rate", "passed"),
    [(0, 0.0, True), (0, 0.01, False), (1, 0.99, True), (1, 1.0, False)],
)
def test_error_rate_limit_zero_means_none_and_others_are_strict(limit, rate, passed):
    total = {"error_rate_pct": rate, "requests": 100, "failures": 1, "steady_requests": 100}

    [check] = checks.threshold_checks(Thresholds(max_error_rate=limit), [], total)

    assert check.passed is passed


def test_p99_and_throughput_limits():
    thresholds = Thresholds(max_p99_ms=1000, min_rps=300)
    total = {"p99_ms": 1000.0, "rps": 300.0, "steady_requests": 3000}

    p99, rps = checks.threshold_checks(thresholds, [], total)

    assert (p99.passed, rps.passed) == (False, True)  # p99 must be below, req/s at least
    assert checks.threshold_checks(Thresholds(), [], total) == []  # custom judges what it is given


def _audit(*, ok: bool = True, ledger_ok: bool = True) -> dict:
    after = {"ok": ok, "products_checked": 3, "negative_stock": 0 if ok else 1}
    after["mismatched_products"] = 0
    ledger = {"ok": ledger_ok, "units_seen_sold": 4, "products": 2}
    ledger["violations"] = [] if ledger_ok else [{"product_id": 1}]
    health = {"ok": True, "status": 200, "reason": "ok"}
    return {"before": None, "after": after, "ledger": ledger, "health_after": health}


def test_exit_code_2_beats_1():
    slow = checks.threshold_checks(
        Thresholds(max_p95_ms=1), [], {"p95_ms": 5.0, "steady_requests": 1}
    )
    oversold = checks.audit_checks(_audit(ok=False))

    assert checks.exit_code(checks.audit_checks(_audit())) == PASSED
    assert checks.exit_code(slow) == FAILED
    assert checks.exit_code(oversold) == OVERSOLD
    assert checks.exit_code(slow + oversold) == OVERSOLD
    assert checks.exit_code(checks.audit_checks(_audit(ledger_ok=False))) == OVERSOLD


def _race(created: int, refused: int, final: int, others=None) -> dict:
    return {
        "users": 20, "stock": 5, "expected_created": 5, "expected_refused": 15,
        "created": created, "refused": refused, "others": others or {},
        "final_stock": final, "expected_final_stock": 5 - created,
    }  # fmt: skip


def test_race_checks_are_exact():
    assert checks.exit_code(checks.race_checks(_race(5, 15, 0))) == PASSED
    assert checks.exit_code(checks.race_checks(_race(4, 15, 1, {"500": 1}))) == FAILED
    assert checks.exit_code(checks.race_checks(_race(6, 14, -1))) == OVERSOLD


def test_user_exceptions_fail_the_run():
    [check] = checks.exception_checks([{"count": 2, "message": "boom", "traceback": "..."}])

    assert (check.kind, check.passed, check.measured) == ("harness", False, 2)
    assert checks.exception_checks([]) == []


def test_compare_fails_when_p95_or_rps_is_more_than_20_percent_worse(tmp_path):
    baseline = {"scenario": "quick", "total": {"p95_ms": 100.0, "rps": 100.0, "requests": 10}}
    path = tmp_path / "baseline.json"

    section, found = compare.compare({"p95_ms": 120.0, "rps": 80.0}, baseline, path)
    assert [check.passed for check in found] == [True, True]  # exactly 20 % is not worse
    assert section["figures"]["p95_ms"] == {"now": 120.0, "baseline": 100.0, "change_pct": 20.0}

    _, found = compare.compare({"p95_ms": 120.1, "rps": 79.9}, baseline, path)
    assert [check.passed for check in found] == [False, False]
    assert checks.exit_code(found) == FAILED


def test_a_combined_baseline_gives_each_part_its_own():
    combined = {"parts": [{"scenario": "race", "total": {"rps": 1}}, {"scenario": "quick"}]}

    assert compare.baseline_for(combined, "race") == {"scenario": "race", "total": {"rps": 1}}
    assert compare.baseline_for(combined, "quick") is None  # no figures


def test_the_verdict_brings_no_locust_along():
    assert "locust" not in sys.modules
