"""The benchmark's pure parts (report, parsing, profile, overhead, cli) and a --quick smoke.

Nothing here imports locust: the smoke test runs `python -m benchmarks` as a subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks.run as bench_run
from benchmarks.base import BenchError, Options
from benchmarks.cli import parse_args
from benchmarks.overhead import find_rps
from benchmarks.parsing import (
    histogram_percentile,
    locust_stats,
    pgbench_latencies_ms,
    pgbench_summary,
)
from benchmarks.profile import summarize
from benchmarks.report import (
    Phase,
    apply_ratios,
    build_report,
    evaluate_goals,
    format_goals,
    format_table,
    write_json,
)
from benchmarks.run import Run
from loadtesting.percentiles import percentile

ROOT = Path(__file__).resolve().parents[2]


def locust_entry(name: str, times: dict[int, int], *, failures: int = 0, span: float = 10.0):
    return {
        "name": name,
        "method": "GET",
        "start_time": 1000.0,
        "last_request_timestamp": 1000.0 + span,
        "num_requests": sum(times.values()),
        "num_failures": failures,
        "response_times": {str(ms): count for ms, count in times.items()},
    }


def phases(bare_rps=1000.0, pgbench_rps=400.0, products_rps=650.0, hot_rps=150.0) -> list[Phase]:
    return [
        Phase(name="bare_wsgi", title="bare", kind="ceiling", users=50, rps=bare_rps),
        Phase(name="pgbench_hot", title="pgbench", kind="ceiling", users=20, rps=pgbench_rps),
        Phase(
            name="products_list",
            title="GET /products/",
            kind="service",
            users=50,
            rps=products_rps,
            requests=13000,
            ceiling="bare_wsgi",
        ),
        Phase(
            name="orders_hot",
            title="POST /orders/ hot",
            kind="service",
            users=20,
            rps=hot_rps,
            requests=3000,
            ceiling="pgbench_hot",
        ),
        Phase(
            name="standard_mix",
            title="mix",
            kind="service",
            users=50,
            rps=640.0,
            p95_ms=80.0,
            requests=12800,
            ceiling="bare_wsgi",
        ),
    ]


def test_histogram_percentile_follows_locust():
    # Locust's rule: the smallest bucket with at most (1 - p) of the requests above it.
    histogram = {10.0: 51, 20.0: 44, 100.0: 4, 900.0: 1}

    assert histogram_percentile(histogram, 0.50) == 10.0
    assert histogram_percentile(histogram, 0.90) == 20.0
    assert histogram_percentile(histogram, 0.95) == 100.0
    assert histogram_percentile(histogram, 0.99) == 900.0
    assert histogram_percentile({}, 0.5) is None


def test_pgbench_latencies_use_the_one_nearest_rank_percentile():
    values = [float(n) for n in range(100, 0, -1)]  # pgbench's logs are not sorted

    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    with pytest.raises(ValueError):
        percentile([], 50)  # so the pgbench driver leaves p50..p99 empty without latencies


def test_locust_stats_aggregates_endpoints_and_computes_rps_over_the_span():
    stats = locust_stats(
        [
            locust_entry("/a", {5: 900, 50: 100}, failures=2),
            locust_entry("/b", {7: 1000}),
        ]
    )

    assert stats["requests"] == 2000
    assert stats["failures"] == 2
    assert stats["rps"] == pytest.approx(200.0)
    assert stats["p50_ms"] == 7.0
    assert stats["p99_ms"] == 50.0
    assert [e["name"] for e in stats["endpoints"]] == ["GET /a", "GET /b"]


def test_pgbench_output_and_latency_logs_are_read():
    stdout = """transaction type: benchmarks/pgbench_order.sql
number of clients: 20
number of transactions actually processed: 4321
number of failed transactions: 0 (0.000%)
latency average = 4.6 ms
tps = 432.123456 (without initial connection time)
"""
    assert pgbench_summary(stdout) == {"tps": 432.123456, "transactions": 4321, "failed": 0}
    assert pgbench_latencies_ms(["0 0 1500 0 1700000000 123", "1 0 2500 0 1700000000 456"]) == [
        1.5,
        2.5,
    ]


def test_ratios_are_service_rates_over_their_own_ceiling():
    measured = phases()
    apply_ratios(measured)
    by_name = {p.name: p for p in measured}

    assert by_name["products_list"].ratio == pytest.approx(0.65)
    assert by_name["orders_hot"].ratio == pytest.approx(0.375)
    assert by_name["bare_wsgi"].ratio is None


def test_a_skipped_ceiling_leaves_the_ratio_empty_and_the_goal_skipped():
    measured = phases()
    measured[1].skipped = "pgbench not installed"
    apply_ratios(measured)
    goals = {g.name: g for g in evaluate_goals(measured, invariant_ok=True, harness_ratio=None)}

    assert {p.name: p for p in measured}["orders_hot"].ratio is None
    assert goals["hot-row POST /orders/ vs pgbench"].status == "skipped"
    assert goals["GET /products/ vs bare WSGI"].status == "met"


def test_goals_are_judged_on_the_run_figures():
    measured = phases(products_rps=500.0, hot_rps=250.0)
    apply_ratios(measured)
    goals = {g.name: g for g in evaluate_goals(measured, invariant_ok=False, harness_ratio=0.95)}

    assert goals["GET /products/ vs bare WSGI"].status == "not met"  # 50 %
    hot = goals["hot-row POST /orders/ vs pgbench"]
    assert hot.status == "not met" and "BROKEN" in hot.measured  # fast, but the invariant broke
    assert goals["standard mix (auth, 50 users)"].status == "met"
    assert goals["loadtest custom vs plain locust (bare app)"].status == "met"


def test_table_and_json_carry_every_phase(tmp_path):
    measured = phases()
    measured.append(
        Phase(name="orders_spread", title="spread", kind="service", skipped="no database")
    )
    apply_ratios(measured)
    goals = evaluate_goals(measured, invariant_ok=True, harness_ratio=None, harness_skipped="n/a")
    table = format_table(measured)
    report = build_report(
        phases=measured,
        goals=goals,
        config={"duration_s": 20},
        machine={"cpus": 2},
        invariant={"ok": True},
        harness={"skipped": "n/a"},
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:04:00+00:00",
    )
    path = write_json(report, tmp_path / "out" / "bench.json")
    loaded = json.loads(path.read_text())

    assert "65 %" in table and "skipped: no database" in table
    assert loaded["ratios"]["products_list"] == pytest.approx(0.65)
    assert [p["name"] for p in loaded["phases"]][:2] == ["bare_wsgi", "pgbench_hot"]
    assert loaded["invariant"] == {"ok": True}
    assert loaded["table"] == table
    assert "[skipped]" in format_goals(goals)


def test_profile_summary_groups_samples_by_stage():
    worker = "process 1;handle (gunicorn/workers/sync.py:1)"
    lines = [
        f"{worker};is_usable (django/db/backends/x.py:2) 30",
        f"{worker};to_representation (rest_framework/f.py:3) 60",
        f"{worker};close_graceful (gunicorn/util.py:4) 10",
    ]
    summary = summarize(lines)
    stages = dict(summary.stages)

    assert summary.samples == 100
    assert stages["response serialization"] == pytest.approx(0.6)
    assert stages["connection health check (SELECT 1)"] == pytest.approx(0.3)
    assert "60.0 %" in summary.format()


def test_harness_rps_is_found_wherever_the_verdict_keeps_it():
    assert find_rps({"total": {"rps": 812.5}}) == 812.5
    assert find_rps({"totals": {"requests_per_second": 10}}) == 10.0
    assert find_rps({"nothing": 1}) is None


def test_options_refuse_unknown_phases_and_know_loopback():
    assert parse_args(["--only", "products_list"]).only == {"products_list"}
    with pytest.raises(SystemExit):
        parse_args(["--only", "nope"])
    with pytest.raises(SystemExit):
        parse_args(["--duration", "0"])
    for host in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        assert parse_args(["--host", host]).host == host
    with pytest.raises(BenchError, match="not a loopback address"):
        Run(parse_args(["--host", "http://192.0.2.10:8000"])).run()


@pytest.mark.slow
def test_quick_benchmark_runs_end_to_end(tmp_path):
    """`python -m benchmarks --quick` with tiny phases: it runs, writes its JSON, audits."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--duration",
            "2",
            "--users",
            "4",
            "--order-clients",
            "4",
            "--products",
            "20",
            "--no-harness",
            "--json-out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    by_name = {p["name"]: p for p in report["phases"]}
    assert by_name["bare_wsgi"]["rps"] > 0
    assert by_name["products_list"]["requests"] > 0
    assert by_name["products_list"]["failures"] == 0
    assert report["invariant"]["ok"] is True
    assert "ratio" in report["table"]
    floor = by_name["python_floor"]
    if floor["skipped"] is None:  # PostgreSQL answered: the floor ran beside the shop's orders
        assert floor["requests"] > 0 and floor["failures"] == 0
        assert by_name["orders_spread"]["failures"] == 0
        spread = [row for row in report["order_cpu"] if row["name"] == "orders_spread"]
        assert spread and spread[0]["of_floor"] > 0
        assert "of floor" in result.stdout


def test_the_mix_runs_first_and_the_report_lists_the_ceilings_first(monkeypatch, tmp_path):
    """The mix measures the freshly seeded database, as `loadtest standard` does: before the
    other phases' orders (whose lines every /summary audits) and before pgbench's and the
    floor's. The report's order stays: the ceilings, then the service phases as listed."""
    run = Run(parse_args(["--no-harness", "--json-out", str(tmp_path / "bench.json")]))
    run.opts = Options(
        duration=1,
        users=1,
        order_clients=1,
        products=1,
        quick=False,
        workdir=tmp_path,
        env={},
        fixtures={"customer_token": "t", "product_ids": [1]},
    )
    steps: list[str] = []
    reported: list[list[str]] = []

    def measure(phase, user_class, url, pid):
        steps.append(phase.name)
        return phase

    def bare() -> None:
        steps.append("bare_wsgi")
        run.phases.append(Phase(name="bare_wsgi", title="bare", kind="ceiling"))

    def pgbench() -> None:
        steps.append("pgbench_hot")
        run.phases.append(Phase(name="pgbench_hot", title="pgbench", kind="ceiling"))

    monkeypatch.setattr(run, "setup", lambda: None)
    monkeypatch.setattr(run, "measure_http_ceiling", bare)
    monkeypatch.setattr(run, "measure_db_ceiling", pgbench)
    monkeypatch.setattr(run, "service_target", lambda: ("http://127.0.0.1:1", None))
    monkeypatch.setattr(run, "measure", measure)
    monkeypatch.setattr(bench_run, "warm_up", lambda *args: None)
    monkeypatch.setattr(run, "report", lambda: reported.append([p.name for p in run.phases]) or 0)

    assert run.run() == 0

    assert steps == [
        "bare_wsgi",
        "standard_mix",
        "products_list",
        "product_detail",
        "orders_hot",
        "orders_spread",
        "pgbench_hot",
    ]
    assert reported == [
        [
            "bare_wsgi",
            "pgbench_hot",
            "python_floor",  # skipped here: no PostgreSQL
            "products_list",
            "product_detail",
            "orders_hot",
            "orders_spread",
            "standard_mix",
        ]
    ]
