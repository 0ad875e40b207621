"""`loadtest capacity`: step the user count up until the SLO breaks or req/s stops growing.

Pure arithmetic over the recorded samples and the step boundaries (no locust import): the load
side calls `step_figures` at the end of each step and `stop_reason` to decide whether to go on;
the verdict's `capacity` object is `summary`.

Each step holds its user count for `step_s` seconds; the first `settle` part of it (the new users
spawning, the server catching up) is not measured, the rest is: req/s, exact p95, error rate.
"""

from dataclasses import dataclass

from loadtesting.percentiles import percentile

FAILURE, STOCK_OUT = 1, 2  # the recorder's outcomes
MIN_GROWTH_PCT = 5.0  # a step that adds less than this to req/s: throughput stopped growing
SETTLE_FRACTION = 1 / 3
STEP_KEYS = ("users", "rps", "p95_ms", "error_rate_pct", "requests", "stock_outs", "slo_met")


STEP_USERS = 10
STEP_S = 30.0
MIN_STEPS = 4  # a --run-time too short for 4 steps of 30 s shortens the steps (at least 2 s)
MIN_STEP_S = 2.0


@dataclass(frozen=True)
class Schedule:
    start_users: int = STEP_USERS
    step_users: int = STEP_USERS
    step_s: float = STEP_S
    max_users: int = 500

    @property
    def spawn_rate(self) -> float:
        """Each step's new users arrive within the first tenth of the step."""
        return max(self.step_users / (self.step_s / 10), 1.0)

    def users(self):
        users = self.start_users
        while users <= self.max_users:
            yield users
            users += self.step_users


def schedule_for(max_users: int, run_time: float) -> Schedule:
    """10 users, +10 every 30 s up to `max_users` (--users); a --run-time that cannot hold four
    such steps gets shorter ones, so that the search still has a shape: `--run-time 12s` makes
    four 3 s steps."""
    step_s = max(min(STEP_S, run_time / MIN_STEPS), MIN_STEP_S)
    start = min(STEP_USERS, max_users)
    return Schedule(start_users=start, step_users=STEP_USERS, step_s=step_s, max_users=max_users)


@dataclass(frozen=True)
class Slo:
    max_p95_ms: float = 500.0
    max_error_rate_pct: float = 1.0


def step_figures(samples: list, *, users: int, start: float, end: float) -> dict:
    measured_from = start + (end - start) * SETTLE_FRACTION
    window = [sample for sample in samples if measured_from <= sample[0] < end]
    seconds = max(end - measured_from, 1e-9)
    failures = sum(1 for sample in window if sample[3] == FAILURE)
    times = [sample[2] for sample in window]
    return {
        "users": users,
        "start": start,
        "measured_s": round(seconds, 3),
        "requests": len(window),
        "rps": round(len(window) / seconds, 2),
        "p95_ms": round(percentile(times, 95), 2) if times else None,
        "error_rate_pct": round(failures / len(window) * 100, 3) if window else None,
        "stock_outs": sum(1 for sample in window if sample[3] == STOCK_OUT),
    }


def slo_met(step: dict, slo: Slo) -> bool:
    if not step["requests"]:
        return False
    return step["p95_ms"] < slo.max_p95_ms and step["error_rate_pct"] < slo.max_error_rate_pct


def _plateau(before: dict, last: dict) -> bool:
    return last["rps"] < before["rps"] * (1 + MIN_GROWTH_PCT / 100)


def stop_reason(steps: list[dict], slo: Slo) -> str | None:
    """Why the search stops after the latest step, or None to go on."""
    last = steps[-1]
    if not last["requests"]:
        return f"no request finished at {last['users']} users"
    if not last["slo_met"]:
        return (
            f"the SLO broke at {last['users']} users: p95 {last['p95_ms']:g} ms "
            f"(limit < {slo.max_p95_ms:g}), errors {last['error_rate_pct']:g} % "
            f"(limit < {slo.max_error_rate_pct:g})"
        )
    if len(steps) >= 2:
        before = steps[-2]
        if _plateau(before, last):
            return (
                f"req/s stopped growing at {last['users']} users: {last['rps']:g} req/s against "
                f"{before['rps']:g} at {before['users']} users (less than +{MIN_GROWTH_PCT:g} %)"
            )
    return None


def step_line(step: dict, slo: Slo) -> str:
    """The console's line after each step."""
    verdict = "meets the SLO" if step["slo_met"] else "breaks the SLO"
    p95 = "-" if step["p95_ms"] is None else f"{step['p95_ms']:g} ms"
    errors = "-" if step["error_rate_pct"] is None else f"{step['error_rate_pct']:g} %"
    return (
        f"Capacity step: {step['users']} users, {step['rps']:g} req/s, p95 {p95}, "
        f"errors {errors}: {verdict} (p95 < {slo.max_p95_ms:g} ms, "
        f"errors < {slo.max_error_rate_pct:g} %)"
    )


def summary(steps: list[dict], stopped_because: str, slo: Slo, schedule: Schedule) -> dict:
    # The last step within the SLO, but not one that added no throughput: when the search stopped
    # because req/s stopped growing, the step before the plateau is the knee.
    candidates = steps[:-1] if len(steps) >= 2 and _plateau(steps[-2], steps[-1]) else steps
    met = [step for step in candidates if step["slo_met"]]
    best = met[-1] if met else None
    return {
        "max_users": best["users"] if best else None,
        "max_rps": best["rps"] if best else None,
        "p95_ms_at_max": best["p95_ms"] if best else None,
        "stopped_because": stopped_because,
        "slo": {"max_p95_ms": slo.max_p95_ms, "max_error_rate_pct": slo.max_error_rate_pct},
        "schedule": {
            "start_users": schedule.start_users,
            "step_users": schedule.step_users,
            "step_s": schedule.step_s,
            "max_users": schedule.max_users,
            "measured_share": round(1 - SETTLE_FRACTION, 3),
        },
        "steps": [{key: step[key] for key in STEP_KEYS} for step in steps],
    }


def check_label(summary_: dict) -> str:
    if summary_["max_users"] is None:
        return f"Capacity: no step met the SLO ({summary_['stopped_because']})"
    return (
        f"Capacity: {summary_['max_users']} users, {summary_['max_rps']:g} req/s at p95 "
        f"{summary_['p95_ms_at_max']:g} ms (the last step within the SLO that added req/s; "
        f"stopped: "
        f"{summary_['stopped_because']})"
    )
