"""The capacity search's arithmetic (loadtesting.capacity): the step schedule, each step's
figures from the recorded samples, when the search stops, and which step is the capacity."""

import pytest

from loadtesting import capacity

SLO = capacity.Slo(max_p95_ms=500, max_error_rate_pct=1)


def step(users: int, rps: float, p95: float = 100.0, errors: float = 0.0) -> dict:
    figures = {"users": users, "rps": rps, "p95_ms": p95, "error_rate_pct": errors}
    figures.update(requests=100, stock_outs=0)
    figures["slo_met"] = capacity.slo_met(figures, SLO)
    return figures


def test_the_default_schedule_is_10_users_plus_10_every_30_s_up_to_the_cap():
    schedule = capacity.schedule_for(500, 30 * 60)
    assert (schedule.start_users, schedule.step_users, schedule.step_s) == (10, 10, 30.0)
    users = list(schedule.users())
    assert users[:3] == [10, 20, 30] and users[-1] == 500 and len(users) == 50


def test_a_short_run_time_shortens_the_steps_so_four_fit():
    assert capacity.schedule_for(40, 12).step_s == 3.0
    assert capacity.schedule_for(40, 4).step_s == capacity.MIN_STEP_S
    assert list(capacity.schedule_for(5, 60).users()) == [5]


def test_a_step_is_measured_after_its_settling_third():
    start = 100.0
    samples = [(start + 0.5, "GET /products/", 9000.0, 0)]  # settling: not measured
    samples += [(start + 1 + i * 0.02, "GET /products/", float(i + 1), 0) for i in range(100)]
    samples += [(start + 2.5, "POST /orders/", 5.0, 1), (start + 2.6, "POST /orders/", 5.0, 2)]
    figures = capacity.step_figures(samples, users=10, start=start, end=start + 3)
    assert figures["requests"] == 102
    assert figures["p95_ms"] == 95.0
    assert figures["error_rate_pct"] == pytest.approx(100 / 102, abs=0.001)
    assert figures["stock_outs"] == 1
    assert figures["rps"] == pytest.approx(102 / 2, abs=0.01)


def test_the_search_goes_on_while_the_slo_holds_and_req_s_grows():
    assert capacity.stop_reason([step(10, 100), step(20, 190)], SLO) is None


def test_a_broken_slo_stops_the_search_and_the_step_before_is_the_capacity():
    steps = [step(10, 100), step(20, 190), step(30, 200, p95=700)]
    reason = capacity.stop_reason(steps, SLO)
    assert reason.startswith("the SLO broke at 30 users: p95 700 ms")
    found = capacity.summary(steps, reason, SLO, capacity.schedule_for(500, 1800))
    assert (found["max_users"], found["max_rps"], found["p95_ms_at_max"]) == (20, 190, 100.0)
    assert [s["slo_met"] for s in found["steps"]] == [True, True, False]


def test_errors_break_the_slo_too():
    assert not step(10, 100, errors=1.0)["slo_met"]
    assert step(10, 100, errors=0.99)["slo_met"]


def test_req_s_that_stops_growing_stops_the_search_at_the_knee():
    steps = [step(10, 100), step(20, 190), step(30, 195)]
    reason = capacity.stop_reason(steps, SLO)
    assert reason.startswith("req/s stopped growing at 30 users")
    found = capacity.summary(steps, reason, SLO, capacity.schedule_for(500, 1800))
    assert found["max_users"] == 20  # 30 users added no throughput


def test_no_step_within_the_slo_is_no_capacity():
    steps = [step(10, 100, p95=900)]
    found = capacity.summary(steps, capacity.stop_reason(steps, SLO), SLO, capacity.Schedule())
    assert found["max_users"] is None
    assert capacity.check_label(found).startswith("Capacity: no step met the SLO")
