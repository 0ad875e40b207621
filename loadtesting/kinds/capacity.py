"""CapacityKind: the mix with the user count stepped up until the SLO breaks or req/s stops
growing; judged by whether a capacity was measured (and the audit)."""

from loadtesting.kinds.mix import MixKind, Part
from loadtesting.scenarios import CAPACITY, Scenario, format_timespan
from loadtesting.verdict import checks as verdict_checks


class CapacityKind(MixKind):
    """The mix with the user count stepped up (loadtesting.capacity) until the SLO breaks or
    req/s stops growing; judged by whether a capacity was measured (and the audit)."""

    name = CAPACITY
    allows_workers = False  # each step is measured from this process's samples

    def describe(self, scenario: Scenario) -> str:
        from loadtesting.capacity import schedule_for

        schedule = schedule_for(scenario.users, scenario.run_time)
        return (
            f"{schedule.start_users} users, +{schedule.step_users} every {schedule.step_s:g} s "
            f"up to {schedule.max_users}, at most {format_timespan(scenario.run_time)}; "
            f"SLO p95 < {scenario.thresholds.max_p95_ms:g} ms, "
            f"errors < {scenario.thresholds.max_error_rate:g} %"
        )

    def drive(self, environment, runner, plan, result, stop):
        from loadtesting.load.capacity import drive_capacity

        drive_capacity(runner, plan, result, stop)

    def after_load(self, harness, part: Part) -> None:
        super().after_load(harness, part)
        part.capacity = part.result.capacity

    def checks(self, part: Part) -> list:
        from loadtesting.capacity import check_label

        found = part.capacity or {"max_users": None, "stopped_because": "no step ran"}
        return [
            verdict_checks.Check(
                "capacity",
                check_label(found),
                found["max_users"] is not None,
                measured=found["max_users"],
                limit=">= 1 step within the SLO",
            )
        ]
