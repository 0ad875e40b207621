"""The verdict document: what `<base>.json` holds for one scenario, and for `all`.

Its fields are docs/loadtest.md's ("Verdict"): scenario, options, target, database, start/end, the
figures per endpoint and in total, each threshold with its measured value, the race, the audit,
the recovery probe, the --compare section, the server's and the load generator's resources,
Locust's own totals, every check, the report files, pass and the exit code.
"""

from datetime import UTC, datetime

from loadtesting.exit_codes import worst
from loadtesting.scenarios import ALL_PARTS
from loadtesting.verdict import checks as verdict_checks
from loadtesting.verdict import compare, figures


def iso(epoch: float | None) -> str | None:
    if not epoch:
        return None
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def is_complete(part) -> bool:
    """Ran to its planned end: not stopped by Ctrl-C or SIGTERM first (interactive has no
    planned end: Ctrl-C is one of the ways to finish it)."""
    return not (part.result.interrupted and part.kind.interrupt_ends_early)


def part_checks(part, options) -> tuple[list, dict | None, list[dict]]:
    """The scenario's own checks (its kind's), whether it ran to its planned end, the audit's,
    the recovery probe's, the users' exceptions and --compare's, in the order they are printed;
    the compare section; and the thresholds that could not be judged."""
    checks = part.kind.checks(part)
    unjudged = verdict_checks.not_judged(
        part.scenario.thresholds, part.rows, part.total, part.resources
    )
    checks += verdict_checks.judgement_checks(checks, unjudged)
    if not is_complete(part):
        checks.append(verdict_checks.incomplete_check(part.result, part.scenario.run_time))
    if "skipped" not in part.audit:
        checks += verdict_checks.audit_checks(part.audit)
    if part.recovery is not None and "skipped" not in part.recovery:
        checks += verdict_checks.recovery_checks(part.recovery)
    checks += verdict_checks.exception_checks(part.result.user_exceptions)
    comparison = None
    if options.baseline is not None:
        baseline = compare.baseline_for(options.baseline, part.scenario.name)
        if baseline is None:
            comparison = {"baseline": str(options.compare), "note": "no figures for this scenario"}
        else:
            comparison, regression = compare.compare(part.total, baseline, options.compare)
            checks += regression
    return checks, comparison, unjudged


def options_json(part, options) -> dict:
    scenario = part.scenario
    described = {
        "users": scenario.users,
        "spawn_rate": scenario.spawn_rate,
        "run_time_s": scenario.run_time,
        "think_time_s": list(scenario.think_time),
        "seed": options.seed,
        "workers": options.workers,
        "host": options.host,
        "results_dir": str(options.results_dir),
        "thresholds": scenario.thresholds.as_dict(),
        "compare": str(options.compare) if options.compare else None,
    }
    return part.kind.options_json(described, part, options)


def build(part, options, reports: dict) -> dict:
    """The verdict of one scenario; `reports` are the files written for it."""
    result = part.result
    part.rows, part.total = figures.figures(
        result.samples, steady_start=result.steady_start, end=result.end
    )
    checks, comparison, unjudged = part_checks(part, options)
    code = verdict_checks.exit_code(checks)
    complete = is_complete(part)
    return {
        "scenario": part.scenario.name,
        "options": options_json(part, options),
        "target": part.target.as_dict(),
        "database": part.target.database,
        "start": iso(result.start),
        "end": iso(result.end),
        "duration_s": round(result.end - result.start, 3),
        "steady_state": {
            "start": iso(result.steady_start),
            "seconds": round(max(result.end - result.steady_start, 0), 3),
        },
        "stop_reason": result.stop_reason,
        "interrupted": result.interrupted,
        "complete": complete,
        "status": "complete" if complete else "incomplete",
        "endpoints": part.rows,
        "total": part.total,
        "thresholds": [check.as_dict() for check in checks if check.kind == "threshold"],
        "not_judged": unjudged,
        "race": part.race,
        "capacity": part.capacity,
        "audit": part.audit,
        "recovery": part.recovery,
        "compare": comparison,
        "server": part.resources,
        "load_generator": result.generator,
        "locust": {
            **result.locust_totals,
            "workers": result.workers,
            "user_exceptions": result.user_exceptions,
        },
        "checks": [check.as_dict() for check in checks],
        "reports": reports,
        "pass": code == 0,
        "exit_code": code,
    }


def combined(verdicts: list[dict], path) -> dict:
    """`all`: every part's verdict, the parts an interruption skipped, the worst exit code."""
    code = worst(verdict["exit_code"] for verdict in verdicts)
    skipped = [name for name in ALL_PARTS if name not in [v["scenario"] for v in verdicts]]
    if skipped:
        code = worst([code, 1])
    complete = not skipped and all(verdict.get("complete", True) for verdict in verdicts)
    return {
        "scenario": "all",
        "parts": verdicts,
        "skipped": skipped,
        "complete": complete,
        "status": "complete" if complete else "incomplete",
        "start": verdicts[0]["start"] if verdicts else None,
        "end": verdicts[-1]["end"] if verdicts else None,
        "pass": code == 0,
        "exit_code": code,
        "reports": {"json": str(path)},
    }
