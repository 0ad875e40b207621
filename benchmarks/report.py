"""The benchmark's pure parts: reading Locust and pgbench output, ratios, goals, the table, JSON.

Nothing here starts a process, imports Django or imports Locust, so the tests can import it.
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Which ceiling each service figure is a fraction of.
HTTP_CEILING = "bare_wsgi"
DB_CEILING = "pgbench_hot"


@dataclass
class Phase:
    """One measured load: a ceiling or a service figure."""

    name: str
    title: str
    kind: str  # "ceiling" or "service"
    users: int = 0
    duration_s: float = 0.0
    requests: int = 0
    failures: int = 0
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    server_cpu: float | None = None  # cores used by the server under test (gunicorn or postgres)
    server_cpu_ms: float | None = None  # server CPU milliseconds per request (or transaction)
    db_cpu: float | None = None  # cores used by every PostgreSQL process, whoever drove it
    generator_cpu: float | None = None  # cores used by the load generator
    machine_cpu: float | None = None  # cores busy on the whole machine, everybody's load included
    ceiling: str | None = None
    ratio: float | None = None
    skipped: str | None = None
    failure_reasons: dict[str, int] = field(default_factory=dict)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rate"] = round(self.error_rate, 6)
        return data


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


def exact_percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of raw samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


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


# --- Ratios, goals -------------------------------------------------------------------------------


def apply_ratios(phases: list[Phase]) -> None:
    """Each service figure as a fraction of its ceiling's rate, when both were measured."""
    by_name = {phase.name: phase for phase in phases}
    for phase in phases:
        if phase.kind != "service" or phase.ceiling is None:
            continue
        ceiling = by_name.get(phase.ceiling)
        if phase.rps and ceiling is not None and ceiling.rps and not ceiling.skipped:
            phase.ratio = phase.rps / ceiling.rps
        else:
            phase.ratio = None


@dataclass
class Goal:
    name: str
    target: str
    measured: str
    status: str  # "met", "not met", "skipped"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def evaluate_goals(
    phases: list[Phase],
    invariant_ok: bool | None,
    harness_ratio: float | None,
    harness_skipped: str | None = None,
) -> list[Goal]:
    """The issue's goals, judged on this run's figures."""
    by_name = {phase.name: phase for phase in phases}
    goals = []

    products = by_name.get("products_list")
    if products is None or products.ratio is None:
        goals.append(Goal("GET /products/ vs bare WSGI", ">= 60 %", "-", "skipped"))
    else:
        status = "met" if products.ratio >= 0.60 else "not met"
        goals.append(Goal("GET /products/ vs bare WSGI", ">= 60 %", _pct(products.ratio), status))

    hot = by_name.get("orders_hot")
    if hot is None or hot.ratio is None:
        goals.append(Goal("hot-row POST /orders/ vs pgbench", ">= 50 %", "-", "skipped"))
    else:
        met = hot.ratio >= 0.50 and invariant_ok is True and hot.failures == 0
        measured = f"{_pct(hot.ratio)}, invariant {'ok' if invariant_ok else 'BROKEN'}"
        if hot.failures:
            measured += f", {hot.failures} errors"
        goals.append(
            Goal(
                "hot-row POST /orders/ vs pgbench",
                ">= 50 %, invariant intact",
                measured,
                "met" if met else "not met",
            )
        )

    mix = by_name.get("standard_mix")
    if mix is None or mix.rps is None:
        goals.append(Goal("standard mix (auth, 50 users)", ">= 600 req/s", "-", "skipped"))
    else:
        met = mix.rps >= 600 and (mix.p95_ms or 0) < 100 and mix.failures == 0
        measured = f"{mix.rps:.0f} req/s, p95 {_ms(mix.p95_ms)} ms, {mix.failures} errors"
        goals.append(
            Goal(
                f"standard mix (auth, {mix.users} users)",
                ">= 600 req/s, p95 < 100 ms, no errors",
                measured,
                "met" if met else "not met",
            )
        )

    if harness_ratio is None:
        reason = harness_skipped or "-"
        goals.append(
            Goal(
                "loadtest custom vs plain locust (bare app)",
                ">= 90 %",
                reason if len(reason) <= 90 else reason[:87] + "...",
                "skipped",
            )
        )
    else:
        goals.append(
            Goal(
                "loadtest custom vs plain locust (bare app)",
                ">= 90 %",
                _pct(harness_ratio),
                "met" if harness_ratio >= 0.90 else "not met",
            )
        )
    return goals


# --- Table, JSON ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _errors(phase: Phase) -> str:
    if not phase.requests:
        return "-"
    if not phase.failures:
        return "0"
    return f"{phase.failures} ({phase.error_rate * 100:.1f}%)"


COLUMNS = [
    ("phase", 34, "<"),
    ("users", 5, ">"),
    ("req/s", 8, ">"),
    ("p50", 6, ">"),
    ("p95", 6, ">"),
    ("p99", 6, ">"),
    ("errors", 12, ">"),
    ("srv CPU", 7, ">"),
    ("ms/req", 6, ">"),
    ("db CPU", 6, ">"),
    ("ratio", 7, ">"),
    ("of", 10, "<"),
]


def format_table(phases: list[Phase]) -> str:
    """A plain-text table; latencies in ms, CPU in cores (1.00 = one core busy)."""
    header = "  ".join(f"{name:{align}{width}}" for name, width, align in COLUMNS)
    lines = [header, "-" * len(header)]
    for phase in phases:
        if phase.skipped:
            lines.append(f"{phase.title[:34]:<34}  skipped: {phase.skipped}")
            continue
        cells = [
            phase.title[:34],
            str(phase.users or "-"),
            "-" if phase.rps is None else f"{phase.rps:.1f}",
            _ms(phase.p50_ms),
            _ms(phase.p95_ms),
            _ms(phase.p99_ms),
            _errors(phase),
            _cores(phase.server_cpu),
            "-" if phase.server_cpu_ms is None else f"{phase.server_cpu_ms:.2f}",
            _cores(phase.db_cpu),
            _pct(phase.ratio) if phase.kind == "service" else "ceiling",
            (phase.ceiling or "") if phase.kind == "service" else "",
        ]
        lines.append(
            "  ".join(
                f"{cell:{align}{width}}"
                for cell, (_, width, align) in zip(cells, COLUMNS, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def format_goals(goals: list[Goal]) -> str:
    width = max((len(goal.name) for goal in goals), default=0)
    return "\n".join(
        f"[{goal.status:^7}] {goal.name:<{width}}  {goal.measured}  (goal {goal.target})"
        for goal in goals
    )


def build_report(
    *,
    phases: list[Phase],
    goals: list[Goal],
    config: Mapping[str, Any],
    machine: Mapping[str, Any],
    invariant: Mapping[str, Any] | None,
    harness: Mapping[str, Any] | None,
    started_at: str,
    finished_at: str,
) -> dict[str, Any]:
    return {
        "format": "shop-bench/1",
        "started_at": started_at,
        "finished_at": finished_at,
        "machine": dict(machine),
        "config": dict(config),
        "phases": [phase.as_dict() for phase in phases],
        "ratios": {phase.name: phase.ratio for phase in phases if phase.kind == "service"},
        "invariant": dict(invariant) if invariant is not None else None,
        "harness_overhead": dict(harness) if harness is not None else None,
        "goals": [goal.as_dict() for goal in goals],
        "table": format_table(phases),
    }


def write_json(report: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return path
