"""Reading the load drivers' output: Locust's JSON and failures CSV, pgbench's report and logs.

Pure functions: nothing here starts a process or imports Locust, so the tests can import it.
"""

from collections.abc import Iterable, Mapping
from typing import Any

# --- Percentiles ---------------------------------------------------------------------------------


def histogram_percentile(histogram: Mapping[float, int], fraction: float) -> float | None:
    """Locust's own percentile over its rounded response-time histogram ({ms: count})."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = int(total * fraction)
    seen = 0
    for response_time in sorted(histogram, reverse=True):
        seen += histogram[response_time]
        if total - seen <= wanted:
            return float(response_time)
    return float(min(histogram))


# --- Locust --------------------------------------------------------------------------------------


def locust_stats(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the entries of `locust --json-file` into one figure, keeping per-endpoint rows.

    RPS is requests over the span from the first user's start to the last request, as Locust
    computes it for its own Aggregated line.
    """
    histogram: dict[float, int] = {}
    requests = failures = 0
    starts: list[float] = []
    ends: list[float] = []
    endpoints = []
    for entry in entries:
        entry_hist = {float(ms): int(n) for ms, n in entry.get("response_times", {}).items()}
        for ms, n in entry_hist.items():
            histogram[ms] = histogram.get(ms, 0) + n
        requests += int(entry.get("num_requests", 0))
        failures += int(entry.get("num_failures", 0))
        span = None
        if entry.get("start_time") and entry.get("last_request_timestamp"):
            starts.append(float(entry["start_time"]))
            ends.append(float(entry["last_request_timestamp"]))
            span = float(entry["last_request_timestamp"]) - float(entry["start_time"])
        endpoints.append(
            {
                "name": f"{entry.get('method', '')} {entry.get('name', '')}".strip(),
                "requests": int(entry.get("num_requests", 0)),
                "failures": int(entry.get("num_failures", 0)),
                "rps": round(entry["num_requests"] / span, 1) if span else None,
                "p50_ms": histogram_percentile(entry_hist, 0.50),
                "p95_ms": histogram_percentile(entry_hist, 0.95),
                "p99_ms": histogram_percentile(entry_hist, 0.99),
            }
        )
    span = (max(ends) - min(starts)) if starts else 0.0
    return {
        "requests": requests,
        "failures": failures,
        "rps": requests / span if span > 0 else None,
        "p50_ms": histogram_percentile(histogram, 0.50),
        "p95_ms": histogram_percentile(histogram, 0.95),
        "p99_ms": histogram_percentile(histogram, 0.99),
        "endpoints": endpoints,
    }


def locust_failures(rows: Iterable[Mapping[str, Any]], limit: int = 5) -> dict[str, int]:
    """The most frequent failure messages from Locust's failures CSV rows."""
    counts: dict[str, int] = {}
    for row in rows:
        key = f"{row.get('Method', '')} {row.get('Name', '')}: {row.get('Error', '')}".strip()
        counts[key[:200]] = counts.get(key[:200], 0) + int(row.get("Occurrences", 0) or 0)
    top = sorted(counts.items(), key=lambda item: item[1], reverse=True)[:limit]
    return dict(top)


# --- pgbench -------------------------------------------------------------------------------------


def pgbench_summary(stdout: str) -> dict[str, Any]:
    """tps, processed and failed transactions from pgbench's report."""
    result: dict[str, Any] = {"tps": None, "transactions": 0, "failed": 0}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("tps =") and "without initial connection time" in line:
            result["tps"] = float(line.split("=")[1].split()[0])
        elif line.startswith("number of transactions actually processed:"):
            result["transactions"] = int(line.split(":")[1].split("/")[0].strip())
        elif line.startswith("number of failed transactions:"):
            result["failed"] = int(line.split(":")[1].split()[0])
    return result


def pgbench_latencies_ms(lines: Iterable[str]) -> list[float]:
    """Per-transaction latencies from pgbench's -l logs (`client tx latency_us script epoch us`)."""
    latencies = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[2].isdigit():
            latencies.append(int(parts[2]) / 1000.0)
    return latencies
