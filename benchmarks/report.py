"""The benchmark's figures: the Phase record, ratios, goals, the tables, the JSON report.

Nothing here starts a process, imports Django or imports Locust, so the tests can import it.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Which ceiling each service figure is a fraction of.
HTTP_CEILING = "bare_wsgi"
DB_CEILING = "pgbench_hot"
# The order's SQL through psycopg under the same gunicorn (benchmarks/floor_wsgi.py).
FLOOR = "python_floor"
FLOOR_GOAL = 2.5  # issue 9: the shop's order <= 2.5 x the floor's CPU per request
ORDER_CPU_PHASES = ("orders_hot", "orders_spread")


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


def _products_goal(by_name: dict[str, Phase]) -> Goal:
    products = by_name.get("products_list")
    if products is None or products.ratio is None:
        return Goal("GET /products/ vs bare WSGI", ">= 60 %", "-", "skipped")
    status = "met" if products.ratio >= 0.60 else "not met"
    return Goal("GET /products/ vs bare WSGI", ">= 60 %", _pct(products.ratio), status)


def _hot_orders_goal(by_name: dict[str, Phase], invariant_ok: bool | None) -> Goal:
    hot = by_name.get("orders_hot")
    if hot is None or hot.ratio is None:
        return Goal("hot-row POST /orders/ vs pgbench", ">= 50 %", "-", "skipped")
    met = hot.ratio >= 0.50 and invariant_ok is True and hot.failures == 0
    measured = f"{_pct(hot.ratio)}, invariant {'ok' if invariant_ok else 'BROKEN'}"
    if hot.failures:
        measured += f", {hot.failures} errors"
    return Goal(
        "hot-row POST /orders/ vs pgbench",
        ">= 50 %, invariant intact",
        measured,
        "met" if met else "not met",
    )


def _floor_goal(phases: list[Phase]) -> Goal:
    """The shop's order CPU per request against the Python floor's: spread orders (the floor's
    own load), else the hot row."""
    name, target = "POST /orders/ server CPU vs Python floor", f"<= {FLOOR_GOAL:g} x"
    rows = {row.name: row for row in order_cpu_ratios(phases)}
    row = rows.get("orders_spread") or rows.get("orders_hot")
    if row is None or row.of_floor is None:
        return Goal(name, target, "-", "skipped")
    measured = f"{row.of_floor:.2f} x ({row.title})"
    return Goal(name, target, measured, "met" if row.of_floor <= FLOOR_GOAL else "not met")


def _mix_goal(by_name: dict[str, Phase]) -> Goal:
    mix = by_name.get("standard_mix")
    if mix is None or mix.rps is None:
        return Goal("standard mix (auth, 50 users)", ">= 600 req/s", "-", "skipped")
    met = mix.rps >= 600 and (mix.p95_ms or 0) < 100 and mix.failures == 0
    measured = f"{mix.rps:.0f} req/s, p95 {_ms(mix.p95_ms)} ms, {mix.failures} errors"
    return Goal(
        f"standard mix (auth, {mix.users} users)",
        ">= 600 req/s, p95 < 100 ms, no errors",
        measured,
        "met" if met else "not met",
    )


def _harness_goal(harness_ratio: float | None, harness_skipped: str | None) -> Goal:
    name = "loadtest custom vs plain locust (bare app)"
    if harness_ratio is None:
        reason = harness_skipped or "-"
        return Goal(
            name, ">= 90 %", reason if len(reason) <= 90 else reason[:87] + "...", "skipped"
        )
    status = "met" if harness_ratio >= 0.90 else "not met"
    return Goal(name, ">= 90 %", _pct(harness_ratio), status)


def evaluate_goals(
    phases: list[Phase],
    invariant_ok: bool | None,
    harness_ratio: float | None,
    harness_skipped: str | None = None,
) -> list[Goal]:
    """The issues' goals, judged on this run's figures."""
    by_name = {phase.name: phase for phase in phases}
    return [
        _products_goal(by_name),
        _hot_orders_goal(by_name, invariant_ok),
        _floor_goal(phases),
        _mix_goal(by_name),
        _harness_goal(harness_ratio, harness_skipped),
    ]


# --- Order CPU against the Python floor and pgbench ---------------------------------------------


@dataclass
class CpuRatio:
    """One order phase's CPU per request, as a multiple of the floor's and of pgbench's."""

    name: str
    title: str
    ms_per_request: float
    of_floor: float | None
    of_pgbench: float | None


def order_cpu_ratios(phases: list[Phase]) -> list[CpuRatio]:
    """The floor, pgbench and the shop's order phases that measured CPU per request, each as a
    multiple of the floor's (server CPU) and of pgbench's (database CPU per transaction)."""
    by_name = {phase.name: phase for phase in phases}

    def measured(name: str) -> float | None:
        phase = by_name.get(name)
        if phase is None or phase.skipped or not phase.server_cpu_ms:
            return None
        return phase.server_cpu_ms

    floor, pgbench = measured(FLOOR), measured(DB_CEILING)
    rows = []
    for name in (FLOOR, DB_CEILING, *ORDER_CPU_PHASES):
        ms = measured(name)
        if ms is None:
            continue
        rows.append(
            CpuRatio(
                name=name,
                title=by_name[name].title,
                ms_per_request=ms,
                of_floor=ms / floor if floor else None,
                of_pgbench=ms / pgbench if pgbench else None,
            )
        )
    return rows


def format_order_cpu(rows: list[CpuRatio]) -> str:
    """The order CPU table: ms per request, x floor, x pgbench."""
    if not rows:
        return "order CPU per request: not measured (needs PostgreSQL and the order phases)"

    def times(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} x"

    header = f"{'order CPU per request':<34}  {'ms/req':>7}  {'of floor':>9}  {'of pgbench':>10}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.title[:34]:<34}  {row.ms_per_request:>7.2f}  {times(row.of_floor):>9}  "
            f"{times(row.of_pgbench):>10}"
        )
    lines.append("(server CPU per request; pgbench's row is PostgreSQL's CPU per transaction)")
    return "\n".join(lines)


def summary_line(phase: Phase) -> str:
    """One phase's figures on one line, printed as it finishes."""
    return (
        f"{phase.rps or 0:.0f} req/s, p50 {phase.p50_ms} ms, p95 {phase.p95_ms} ms, "
        f"{phase.failures} errors, server CPU {phase.server_cpu or 0:.2f} cores"
    )


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
        "order_cpu": [asdict(row) for row in order_cpu_ratios(phases)],
    }


def write_json(report: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return path
