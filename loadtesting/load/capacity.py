"""`capacity`: the user count stepped up while the load runs (loadtesting.capacity has the
arithmetic). Each step sets the runner's user count, holds it for the step's time, and is then
measured from the recorded samples; the search stops when the SLO breaks, req/s stops growing,
the user cap (--users) is reached, the time cap (--run-time) cannot hold another step, or a
signal came."""

import time

import gevent

from loadtesting import capacity
from loadtesting.load.plan import LoadPlan, LoadResult
from loadtesting.load.recorder import RECORDER
from loadtesting.load.runner import StopFlag, progress_line


def drive_capacity(runner, plan: LoadPlan, result: LoadResult, stop: StopFlag) -> None:
    scenario = plan.scenario
    schedule = capacity.schedule_for(scenario.users, scenario.run_time)
    slo = capacity.Slo(
        max_p95_ms=scenario.thresholds.max_p95_ms or capacity.Slo.max_p95_ms,
        max_error_rate_pct=scenario.thresholds.max_error_rate
        if scenario.thresholds.max_error_rate is not None
        else capacity.Slo.max_error_rate_pct,
    )
    deadline = time.monotonic() + scenario.run_time
    steps: list[dict] = []
    result.steps = []
    reason = f"the user cap ({schedule.max_users} users, --users) was reached"
    for users in schedule.users():
        if deadline - time.monotonic() < schedule.step_s:
            reason = (
                f"the time cap (--run-time) cannot hold another {schedule.step_s:g} s step"
                if steps
                else "the --run-time is shorter than one step"
            )
            break
        began, began_mono = time.time(), time.monotonic()
        result.steps.append([began, users])
        gevent.spawn(runner.start, users, schedule.spawn_rate)
        next_progress = began_mono + plan.progress_interval
        while not stop.reason and time.monotonic() - began_mono < schedule.step_s:
            if time.monotonic() >= next_progress and result.ran:
                plan.progress(progress_line(runner, result, scenario.run_time))
                next_progress = time.monotonic() + plan.progress_interval
            gevent.sleep(0.1)
        if stop.reason:
            reason = stop.reason
            break
        step = capacity.step_figures(RECORDER.samples, users=users, start=began, end=time.time())
        step["slo_met"] = capacity.slo_met(step, slo)
        steps.append(step)
        plan.progress(capacity.step_line(step, slo))
        if why := capacity.stop_reason(steps, slo):
            reason = why
            break
    result.stop_reason = reason
    result.capacity = capacity.summary(steps, reason, slo, schedule)
