"""The split benchmark's pieces with logic of their own: the CPU meters' arithmetic, the order CPU
table against the Python floor and pgbench, the floor goal, and the users module (in a
subprocess: the pytest process never imports locust or gevent)."""

import json
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from benchmarks.meters import CpuMeter, MachineMeter, apply_seconds, busy_seconds
from benchmarks.report import (
    FLOOR_GOAL,
    Phase,
    evaluate_goals,
    format_order_cpu,
    order_cpu_ratios,
)

ROOT = Path(__file__).resolve().parents[2]
Times = namedtuple("Times", "user system")
CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait")


class FakeProcess:
    def __init__(self, pid: int, started: float, seconds: float):
        self.pid, self.started, self.seconds = pid, started, seconds

    def create_time(self) -> float:
        return self.started

    def cpu_times(self) -> Times:
        return Times(self.seconds * 0.75, self.seconds * 0.25)


def test_cpu_meter_counts_what_it_saw_of_old_and_new_processes():
    old, gone = FakeProcess(10, 1.0, 10.0), FakeProcess(11, 1.0, 4.0)
    alive = [old, gone]
    meter = CpuMeter(lambda: list(alive), interval=3600)  # no background poll in this test

    with meter:
        old.seconds = 12.5  # 2.5 s inside the window
        gone.seconds = 4.5  # 0.5 s seen, then it ends
        meter._poll()
        alive.remove(gone)
        alive.append(FakeProcess(12, 2.0, 0.7))  # started inside the window: all of its 0.7 s
        alive.append(FakeProcess(10, 9.0, 3.0))  # a reused pid is another process

    assert meter.seconds == pytest.approx(2.5 + 0.5 + 0.7 + 3.0)


def test_cpu_meter_never_goes_negative():
    process = FakeProcess(1, 1.0, 5.0)
    with CpuMeter(lambda: [process], interval=3600) as meter:
        process.seconds = 4.0
    assert meter.seconds == 0.0


def test_seconds_become_cores_over_the_span_and_ms_per_request():
    phase = Phase(name="p", title="p", kind="service", requests=1000)

    apply_seconds(phase, {"server_cpu": 2.0, "db_cpu": 1.0, "generator_cpu": None}, span=4.0)

    assert phase.server_cpu == pytest.approx(0.5)
    assert phase.db_cpu == pytest.approx(0.25)
    assert phase.generator_cpu is None
    assert phase.server_cpu_ms == pytest.approx(2.0)


def test_no_span_or_no_server_leaves_the_figures_empty():
    phase = Phase(name="p", title="p", kind="service", requests=10)
    apply_seconds(phase, {"server_cpu": None, "db_cpu": 1.0}, span=None)
    assert phase.server_cpu is None and phase.db_cpu is None and phase.server_cpu_ms is None


def test_busy_cores_leave_idle_and_iowait_out():
    start, end = CpuTimes(10, 0, 5, 100, 3), CpuTimes(13, 0, 6, 104, 5)
    assert busy_seconds(end) - busy_seconds(start) == pytest.approx(4.0)
    with MachineMeter() as machine:
        pass
    assert machine.cores is None or machine.cores >= 0


def cpu_phases(floor_ms=2.0, pgbench_ms=0.5, hot_ms=6.0, spread_ms=4.0) -> list[Phase]:
    def phase(name, title, ms, kind="service"):
        return Phase(name=name, title=title, kind=kind, requests=100, server_cpu_ms=ms)

    return [
        phase("pgbench_hot", "pgbench", pgbench_ms, "ceiling"),
        phase("python_floor", "floor", floor_ms, "ceiling"),
        phase("products_list", "list", 0.4),
        phase("orders_hot", "hot", hot_ms),
        phase("orders_spread", "spread", spread_ms),
    ]


def test_order_cpu_is_a_multiple_of_the_floor_and_of_pgbench():
    rows = {row.name: row for row in order_cpu_ratios(cpu_phases())}

    assert list(rows) == ["python_floor", "pgbench_hot", "orders_hot", "orders_spread"]
    assert rows["python_floor"].of_floor == pytest.approx(1.0)
    assert rows["orders_hot"].of_floor == pytest.approx(3.0)
    assert rows["orders_spread"].of_floor == pytest.approx(2.0)
    assert rows["orders_spread"].of_pgbench == pytest.approx(8.0)
    table = format_order_cpu(list(rows.values()))
    assert "of floor" in table and "3.00 x" in table and "8.00 x" in table


def test_without_the_floor_the_ratio_is_empty_and_the_goal_skipped():
    measured = cpu_phases()
    measured[1].skipped = "needs PostgreSQL"
    rows = {row.name: row for row in order_cpu_ratios(measured)}

    assert "python_floor" not in rows
    assert rows["orders_hot"].of_floor is None and rows["orders_hot"].of_pgbench == 12.0
    goals = {g.name: g for g in evaluate_goals(measured, invariant_ok=True, harness_ratio=None)}
    assert goals["POST /orders/ server CPU vs Python floor"].status == "skipped"
    assert "not measured" in format_order_cpu([])


@pytest.mark.parametrize(
    ("spread_ms", "status"), [(2.0 * FLOOR_GOAL, "met"), (2.0 * FLOOR_GOAL + 0.1, "not met")]
)
def test_the_floor_goal_judges_spread_orders(spread_ms, status):
    goals = {
        g.name: g
        for g in evaluate_goals(cpu_phases(spread_ms=spread_ms), invariant_ok=True, harness_ratio=1)
    }
    goal = goals["POST /orders/ server CPU vs Python floor"]
    assert goal.status == status and "spread" in goal.measured


USERS_PROBE = """
import json, sys
import benchmarks.users as bench
ShopUser = bench.ShopUser  # the harness's own user, wherever the harness keeps it
FIXTURES = sys.modules[ShopUser.__module__].FIXTURES
print(json.dumps({"harness_module": ShopUser.__module__}))
print(json.dumps({
    "tasks": {name: [t.__name__ for t in getattr(bench, name).tasks] for name in (
        "ProductListUser", "ProductDetailUser", "HotOrderUser", "SpreadOrderUser")},
    "mix_is_the_harness": issubclass(bench.StandardMixUser, ShopUser)
        and bench.StandardMixUser.tasks == ShopUser.tasks,
    "products": FIXTURES.products, "hot": FIXTURES.hot_products,
    "tokens": FIXTURES.customer_tokens, "staff": FIXTURES.staff_token,
}))
"""


def test_the_benchmark_users_are_the_harness_users(tmp_path):
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(
        json.dumps(
            {
                "customer_token": "c0ffee",
                "staff_token": "5taff",
                "product_ids": [4, 5, 6, 7],
                "hot_product_id": 9,
            }
        )
    )
    env = {**os.environ, "BENCH_FIXTURES": str(fixtures)}
    result = subprocess.run(
        [sys.executable, "-c", USERS_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    module_line, probe_line = result.stdout.strip().splitlines()
    assert json.loads(module_line)["harness_module"].startswith("loadtesting.")
    found = json.loads(probe_line)

    assert found["tasks"] == {
        "ProductListUser": ["first_page"],
        "ProductDetailUser": ["any_product"],
        "HotOrderUser": ["order"],
        "SpreadOrderUser": ["order"],
    }
    assert found["mix_is_the_harness"] is True
    assert found["products"] == [4, 5, 6, 7] and found["hot"] == [4, 5, 6]
    assert found["tokens"] == ["c0ffee"] and found["staff"] == "5taff"
