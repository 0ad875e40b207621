"""The verdict: exact figures, the checks with their measured values, the summary table, JSON.

Arithmetic (LOADTEST.md): percentiles are exact (nearest rank) over every request of the steady
state (after ramp-up); RPS is over the steady state; the error rate is in percent of all requests,
stock-outs counted in the denominator but not as failures; per-endpoint thresholds judge only
endpoints with at least 50 steady-state samples; aggregate thresholds always judge.

The HTML and CSV reports are Locust's own and are written by the runner.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from loadtesting import memory
from loadtesting.exit_codes import FAILED, OVERSOLD, PASSED
from loadtesting.percentiles import percentile
from loadtesting.recorder import FAILURE, STOCK_OUT
from loadtesting.scenarios import MIN_ENDPOINT_SAMPLES, Thresholds

REGRESSION_LIMIT_PCT = 20.0
TOTAL = "Aggregated"


def _figures(samples: list, steady: list, steady_seconds: float) -> dict:
    requests = len(samples)
    failures = sum(1 for sample in samples if sample[3] == FAILURE)
    stock_outs = sum(1 for sample in samples if sample[3] == STOCK_OUT)
    times = sorted(sample[2] for sample in steady)
    return {
        "requests": requests,
        "failures": failures,
        "stock_outs": stock_outs,
        "error_rate_pct": round(failures / requests * 100, 3) if requests else 0.0,
        "steady_requests": len(times),
        "avg_ms": round(sum(times) / len(times), 2) if times else 0.0,
        "p50_ms": round(percentile(times, 50), 2) if times else 0.0,
        "p95_ms": round(percentile(times, 95), 2) if times else 0.0,
        "p99_ms": round(percentile(times, 99), 2) if times else 0.0,
        "max_ms": round(times[-1], 2) if times else 0.0,
        "rps": round(len(times) / steady_seconds, 2) if steady_seconds > 0 else 0.0,
    }


def figures(samples: list, *, steady_start: float, end: float) -> tuple[list[dict], dict]:
    """Per-endpoint rows (sorted by name, then method) and the total."""
    steady_seconds = max(end - steady_start, 0.0)
    by_endpoint: dict[str, list] = defaultdict(list)
    for sample in samples:
        by_endpoint[sample[1]].append(sample)
    rows = []
    for key, endpoint_samples in by_endpoint.items():
        method, _, name = key.partition(" ")
        steady = [sample for sample in endpoint_samples if sample[0] >= steady_start]
        rows.append(
            {"method": method, "name": name, **_figures(endpoint_samples, steady, steady_seconds)}
        )
    rows.sort(key=lambda row: (row["name"], row["method"]))
    steady = [sample for sample in samples if sample[0] >= steady_start]
    total = {"method": "", "name": TOTAL, **_figures(samples, steady, steady_seconds)}
    return rows, total


# --- checks: every line of the verdict, with its measured value --------------------------------


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


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def threshold_checks(thresholds: Thresholds, rows: list[dict], total: dict) -> list[Check]:
    checks = []
    if thresholds.max_p95_ms is not None:
        limit = thresholds.max_p95_ms
        if thresholds.per_endpoint_p95:
            for row in rows:
                scope = f"{row['method']} {row['name']}"
                if row["steady_requests"] < MIN_ENDPOINT_SAMPLES:
                    continue  # reported, not judged
                checks.append(
                    Check(
                        "threshold",
                        f"p95 of {scope}: {_ms(row['p95_ms'])} (limit < {limit:g} ms)",
                        row["p95_ms"] < limit,
                        measured=row["p95_ms"],
                        limit=limit,
                    )
                )
        checks.append(
            Check(
                "threshold",
                f"p95 of all requests: {_ms(total['p95_ms'])} (limit < {limit:g} ms)",
                total["p95_ms"] < limit,
                measured=total["p95_ms"],
                limit=limit,
            )
        )
    if thresholds.max_p99_ms is not None:
        limit = thresholds.max_p99_ms
        checks.append(
            Check(
                "threshold",
                f"p99 of all requests: {_ms(total['p99_ms'])} (limit < {limit:g} ms)",
                total["p99_ms"] < limit,
                measured=total["p99_ms"],
                limit=limit,
            )
        )
    if thresholds.max_error_rate is not None:
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
    if thresholds.min_rps is not None:
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


# --- --compare BASELINE.json -------------------------------------------------------------------

COMPARED = ("requests", "error_rate_pct", "avg_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "rps")


def load_baseline(path: Path) -> dict:
    """A verdict JSON written earlier; raises ValueError with a one-line reason."""
    try:
        baseline = json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise ValueError(f"{path} is not JSON") from None
    if not isinstance(baseline, dict) or not (
        isinstance(baseline.get("total"), dict) or isinstance(baseline.get("parts"), list)
    ):
        raise ValueError(f"{path} is not a loadtest verdict (no 'total' figures)")
    return baseline


def baseline_for(baseline: dict, scenario: str) -> dict | None:
    if isinstance(baseline.get("total"), dict):
        return baseline
    for part in baseline.get("parts", ()):
        if part.get("scenario") == scenario and isinstance(part.get("total"), dict):
            return part
    return None


def compare(total: dict, baseline: dict, path: Path) -> tuple[dict, list[Check]]:
    base = baseline["total"]
    figures_side_by_side = {}
    for key in COMPARED:
        now, then = total.get(key), base.get(key)
        change = (
            round((now - then) / then * 100, 1)
            if isinstance(now, int | float) and isinstance(then, int | float) and then
            else None
        )
        figures_side_by_side[key] = {"now": now, "baseline": then, "change_pct": change}
    checks = []
    p95, base_p95 = total["p95_ms"], base.get("p95_ms")
    if isinstance(base_p95, int | float):
        worse = p95 > base_p95 * (1 + REGRESSION_LIMIT_PCT / 100)
        checks.append(
            Check(
                "regression",
                f"Regression: p95 {_ms(p95)} vs baseline {_ms(base_p95)} "
                f"({figures_side_by_side['p95_ms']['change_pct']:+.1f} %, "
                f"limit +{REGRESSION_LIMIT_PCT:g} %)"
                if base_p95
                else f"Regression: p95 {_ms(p95)} vs baseline {_ms(base_p95)}",
                not worse,
                measured=p95,
                limit=round(base_p95 * (1 + REGRESSION_LIMIT_PCT / 100), 2),
            )
        )
    rps, base_rps = total["rps"], base.get("rps")
    if isinstance(base_rps, int | float) and base_rps:
        worse = rps < base_rps * (1 - REGRESSION_LIMIT_PCT / 100)
        checks.append(
            Check(
                "regression",
                f"Regression: throughput {rps:.1f} req/s vs baseline {base_rps:.1f} req/s "
                f"({figures_side_by_side['rps']['change_pct']:+.1f} %, "
                f"limit -{REGRESSION_LIMIT_PCT:g} %)",
                not worse,
                measured=rps,
                limit=round(base_rps * (1 - REGRESSION_LIMIT_PCT / 100), 2),
            )
        )
    section = {
        "baseline": str(path),
        "baseline_scenario": baseline.get("scenario"),
        "baseline_start": baseline.get("start"),
        "limit_pct": REGRESSION_LIMIT_PCT,
        "figures": figures_side_by_side,
    }
    return section, checks


def exit_code(checks: list[Check]) -> int:
    failed = [check.fail_code for check in checks if not check.passed]
    if OVERSOLD in failed:
        return OVERSOLD
    return FAILED if failed else PASSED


# --- console -----------------------------------------------------------------------------------


def summary_table(rows: list[dict], total: dict, *, stock_outs: bool = True) -> list[str]:
    """The brief's "Sample Test Results" table, with exact latencies and, for the shop's own
    users, stock-outs (a user's own locustfile has none: its 409s are whatever it marked)."""
    stock_outs_header = f" {'# stock-outs':>12}" if stock_outs else ""
    header = (
        f"{'Type':<8} {'Name':<26} {'# reqs':>8} {'# fails':>8}{stock_outs_header} "
        f"{'avg':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'req/s':>7}"
    )
    lines = [header]
    for row in [*rows, total]:
        if row is total:
            lines.append("-" * len(header))
        stock_outs_cell = f" {row['stock_outs']:>12,}" if stock_outs else ""
        lines.append(
            f"{row['method']:<8} {row['name']:<26} {row['requests']:>8,} {row['failures']:>8,}"
            f"{stock_outs_cell} {row['avg_ms']:>7.0f} {row['p50_ms']:>7.0f} "
            f"{row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f} {row['max_ms']:>7.0f} {row['rps']:>7.1f}"
        )
    lines += [
        "",
        f"Total requests: {total['requests']:,}",
        f"Failures: {total['failures']:,} ({total['error_rate_pct']:.1f}%)",
    ]
    if stock_outs:
        lines.append(f"Stock-outs (409 insufficient_stock, not failures): {total['stock_outs']:,}")
    lines += [
        f"Average response time: {total['avg_ms']:.0f}ms",
        f"95th percentile: {total['p95_ms']:.0f}ms",
        f"99th percentile: {total['p99_ms']:.0f}ms",
        f"RPS: {total['rps']:.1f}",
    ]
    return lines


def verdict_line(check: dict) -> str:
    return f"[{'ok' if check['pass'] else 'fail'}] {check['label']}"


def write_json(path: Path, verdict: dict) -> None:
    path.write_text(json.dumps(verdict, indent=2, default=str) + "\n")
