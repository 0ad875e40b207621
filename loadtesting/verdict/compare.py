"""--compare BASELINE.json: each figure beside the baseline's; p95 or RPS more than 20 % worse
fails (exit 1)."""

import json
from pathlib import Path

from loadtesting.verdict.checks import Check, ms

REGRESSION_LIMIT_PCT = 20.0
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
                f"Regression: p95 {ms(p95)} vs baseline {ms(base_p95)} "
                f"({figures_side_by_side['p95_ms']['change_pct']:+.1f} %, "
                f"limit +{REGRESSION_LIMIT_PCT:g} %)"
                if base_p95
                else f"Regression: p95 {ms(p95)} vs baseline {ms(base_p95)}",
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
