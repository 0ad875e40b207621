"""The verdict's figures: exact, over every recorded sample (loadtesting.load.recorder).

Arithmetic (docs/loadtest.md, "Verdict"): percentiles are exact (nearest rank,
loadtesting.percentiles) over every request of the steady state (after ramp-up); RPS is over the
steady state; the error rate is in percent of all requests, stock-outs counted in the denominator
but not as failures.
"""

from collections import defaultdict

from loadtesting.load.recorder import FAILURE, STOCK_OUT
from loadtesting.percentiles import percentile

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
