"""Every line of the verdict, with its measured value and limit, and the exit status they give.

Per-endpoint thresholds judge only endpoints with at least 50 steady-state samples; aggregate
thresholds judge whenever there is a sample. What could not be judged is listed apart
(`not_judged`), never counted as a pass, and a run whose every threshold went unjudged fails. A
run stopped before its planned end (Ctrl-C, SIGTERM) fails as incomplete. A failed oversell check
exits 2, any other 1; 2 beats 1.
"""

from dataclasses import dataclass

from loadtesting import memory
from loadtesting.exit_codes import FAILED, OVERSOLD, PASSED
from loadtesting.scenarios import MIN_ENDPOINT_SAMPLES, Thresholds, format_timespan

# The oversell audit's line names at most this many broken products (the JSON has them all).
PRODUCTS_NAMED = 3


@dataclass
class Check:
    kind: str  # threshold | oversell | race | health | recovery | regression
    label: str
    passed: bool
    fail_code: int = FAILED
    measured: float | int | str | None = None
    limit: float | int | str | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "measured": self.measured,
            "limit": self.limit,
            "pass": self.passed,
            "exit_code_on_failure": self.fail_code,
        }


def ms(value: float) -> str:
    return f"{value:.1f} ms"


def _latency_check(what: str, value: float, limit: float) -> Check:
    """A latency threshold: `what` (a percentile of some requests) below `limit` milliseconds."""
    label = f"{what}: {ms(value)} (limit < {limit:g} ms)"
    return Check("threshold", label, value < limit, measured=value, limit=limit)


def _p95_checks(thresholds: Thresholds, rows: list[dict], total: dict) -> list[Check]:
    limit = thresholds.max_p95_ms
    checks = []
    if thresholds.per_endpoint_p95:
        for row in rows:
            if row["steady_requests"] < MIN_ENDPOINT_SAMPLES:
                continue  # reported, not judged
            what = f"p95 of {row['method']} {row['name']}"
            checks.append(_latency_check(what, row["p95_ms"], limit))
    if not total["steady_requests"]:
        return checks  # not judged: no sample
    checks.append(_latency_check("p95 of all requests", total["p95_ms"], limit))
    return checks


def threshold_checks(thresholds: Thresholds, rows: list[dict], total: dict) -> list[Check]:
    checks = []
    if thresholds.max_p95_ms is not None:
        checks += _p95_checks(thresholds, rows, total)
    steady = total["steady_requests"]
    if thresholds.max_p99_ms is not None and steady:
        checks.append(_latency_check("p99 of all requests", total["p99_ms"], thresholds.max_p99_ms))
    if thresholds.max_error_rate is not None and total["requests"]:
        limit = thresholds.max_error_rate
        rate = total["error_rate_pct"]
        passed = rate == 0 if limit == 0 else rate < limit
        wording = "= 0 %" if limit == 0 else f"< {limit:g} %"
        checks.append(
            Check(
                "threshold",
                f"error rate: {rate:.2f} % of {total['requests']} requests, "
                f"{total['failures']} failures (limit {wording})",
                passed,
                measured=rate,
                limit=limit,
            )
        )
    if thresholds.min_rps is not None and steady:
        limit = thresholds.min_rps
        checks.append(
            Check(
                "threshold",
                f"throughput: {total['rps']:.1f} req/s (limit >= {limit:g} req/s)",
                total["rps"] >= limit,
                measured=total["rps"],
                limit=limit,
            )
        )
    return checks


def memory_checks(thresholds: Thresholds, server: dict | None) -> list[Check]:
    """The server's memory is flat after warm-up, when the scenario judges it and it was measured:
    a --host on another machine, or a run too short for a steady state, is reported, not judged."""
    limit = thresholds.max_rss_growth_pct
    if limit is None or server is None:
        return []
    growth = server.get("rss_growth")
    flat = memory.is_flat(growth, limit)
    if flat is None:
        return []
    return [
        Check(
            "threshold",
            f"server memory flat after warm-up: RSS {growth['growth_pct']:+.1f} % "
            f"({growth['warm_mb']:g} -> {growth['end_mb']:g} MB) (limit <= {limit:g} %)",
            flat,
            measured=growth["growth_pct"],
            limit=limit,
        )
    ]


def not_judged(
    thresholds: Thresholds, rows: list[dict], total: dict, server: dict | None = None
) -> list[dict]:
    """Each threshold that was set but could not be judged, with why: reported, never a pass."""
    found = []

    def add(label: str, threshold: str, samples: int) -> None:
        found.append({"label": label, "threshold": threshold, "samples": samples})

    if thresholds.max_p95_ms is not None and thresholds.per_endpoint_p95:
        for row in rows:
            if row["steady_requests"] < MIN_ENDPOINT_SAMPLES:
                add(
                    f"p95 of {row['method']} {row['name']}: {row['steady_requests']} steady-state "
                    f"samples, fewer than {MIN_ENDPOINT_SAMPLES}",
                    "max_p95_ms",
                    row["steady_requests"],
                )
    steady = total["steady_requests"]
    for key, what in (
        ("max_p95_ms", "p95 of all requests"),
        ("max_p99_ms", "p99 of all requests"),
        ("min_rps", "throughput"),
    ):
        if getattr(thresholds, key) is not None and not steady:
            add(f"{what}: no steady-state samples", key, 0)
    if thresholds.max_error_rate is not None and not total["requests"]:
        add("error rate: no requests", "max_error_rate", 0)
    if thresholds.max_rss_growth_pct is not None:
        if server is None:
            add(
                "server memory flat after warm-up: the server was not measured",
                "max_rss_growth_pct",
                0,
            )
        elif memory.is_flat(server.get("rss_growth"), thresholds.max_rss_growth_pct) is None:
            samples = len(server.get("rss_timeline") or ())
            add(
                f"server memory flat after warm-up: {samples} sample(s), too few in the steady "
                "state",
                "max_rss_growth_pct",
                samples,
            )
    return found


def judgement_checks(checks: list[Check], unjudged: list[dict]) -> list[Check]:
    """A run whose every threshold went unjudged is not a pass."""
    if not unjudged or any(check.kind == "threshold" for check in checks):
        return []
    return [
        Check(
            "run",
            f"No threshold could be judged ({len(unjudged)} not judged: too few samples)",
            False,
            measured=0,
            limit=len(unjudged),
        )
    ]


def incomplete_check(result, planned_s: float) -> Check:
    """A run stopped by Ctrl-C or SIGTERM before its planned end is incomplete: never a pass."""
    ran_s = max(result.end - result.start, 0.0)
    return Check(
        "run",
        f"Run incomplete: {result.stop_reason} after {ran_s:.1f} s of the planned "
        f"{format_timespan(planned_s)}; the figures cover only that part",
        False,
        measured=round(ran_s, 1),
        limit=planned_s,
    )


def audit_checks(audit: dict) -> list[Check]:
    checks = []
    before, after = audit.get("before"), audit["after"]
    if after["ok"]:
        label = (
            f"No overselling: stock invariant holds for all {after['products_checked']} products "
            f"(0 negative, 0 mismatched)"
        )
    else:
        label = (
            f"Oversell audit: {after['negative_stock']} product(s) with negative stock, "
            f"{after['mismatched_products']} with stock + held != units received"
        )
        if problems := after.get("problems"):
            label += ": " + ", ".join(
                f"{row['sku']} (stock {row['stock']} + held {row['held']} != "
                f"received {row['units_received']})"
                for row in problems[:PRODUCTS_NAMED]
            )
            if len(problems) > PRODUCTS_NAMED:
                label += f" and {len(problems) - PRODUCTS_NAMED} more (see the JSON)"
        if before is not None and not before["ok"]:
            label += " (already broken before the load)"
    checks.append(
        Check(
            "oversell",
            label,
            after["ok"],
            OVERSOLD,
            measured=after["negative_stock"] + after["mismatched_products"],
            limit=0,
        )
    )
    ledger = audit["ledger"]
    checks.append(
        Check(
            "oversell",
            f"Client ledger: {ledger['units_seen_sold']} units seen sold on {ledger['products']} "
            f"products, {len(ledger['violations'])} beyond units held or received",
            ledger["ok"],
            OVERSOLD,
            measured=len(ledger["violations"]),
            limit=0,
        )
    )
    health = audit["health_after"]
    checks.append(
        Check(
            "health",
            f"/health after the load: {health['reason']}",
            health["ok"],
            measured=health["status"],
            limit=200,
        )
    )
    return checks


def race_checks(race: dict) -> list[Check]:
    created, expected = race["created"], race["expected_created"]
    others = ", ".join(f"{count} x {key}" for key, count in sorted(race["others"].items()))
    return [
        Check(
            "race",
            f"Race: {created} x 201 created (expected exactly {expected} = "
            f"min({race['users']} users, stock {race['stock']}))",
            created == expected,
            OVERSOLD if created > expected else FAILED,
            measured=created,
            limit=expected,
        ),
        Check(
            "race",
            f"Race: {race['refused']} x 409 insufficient_stock "
            f"(expected exactly {race['expected_refused']})",
            race["refused"] == race["expected_refused"],
            measured=race["refused"],
            limit=race["expected_refused"],
        ),
        Check(
            "race",
            f"Race: nothing else ({others or 'none'})",
            not race["others"],
            measured=sum(race["others"].values()),
            limit=0,
        ),
        Check(
            "race",
            f"Race: final stock {race['final_stock']} (stock {race['stock']} - {created} created "
            f"= {race['expected_final_stock']}, never negative)",
            race["final_stock"] == race["expected_final_stock"] and (race["final_stock"] or 0) >= 0,
            OVERSOLD,
            measured=race["final_stock"],
            limit=race["expected_final_stock"],
        ),
    ]


def recovery_checks(recovery: dict) -> list[Check]:
    checks = [
        Check(
            "recovery",
            f"Recovery: /health after stress: {recovery['health']['reason']}",
            recovery["health"]["ok"],
            measured=recovery["health"]["status"],
            limit=200,
        )
    ]
    for check in recovery.get("checks", ()):
        checks.append(
            Check(
                "recovery",
                f"Recovery probe ({recovery['users']} users, quick thresholds): {check['label']}",
                check["pass"],
                measured=check["measured"],
                limit=check["limit"],
            )
        )
    return checks


def exception_checks(user_exceptions: list[dict]) -> list[Check]:
    """Simulated users that raised: a harness failure, never a pass."""
    if not user_exceptions:
        return []
    count = sum(row["count"] for row in user_exceptions)
    return [
        Check(
            "harness",
            f"Simulated users raised {count} exception(s) (see the log and the HTML report)",
            False,
            measured=count,
            limit=0,
        )
    ]


def exit_code(checks: list[Check]) -> int:
    failed = [check.fail_code for check in checks if not check.passed]
    if OVERSOLD in failed:
        return OVERSOLD
    return FAILED if failed else PASSED
