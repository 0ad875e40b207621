"""Console output: what the person at the terminal reads (stdout, or stderr with --json).

Every line is also in the run's log. The table is the brief's "Sample Test Results", with exact
latencies; then the server's resources, the comparison, every verdict line and the report paths.
"""

import logging

from loadtesting import memory
from loadtesting.reports import PRINTED_REPORTS

logger = logging.getLogger("loadtest")


class Console:
    """Human output: stdout, or stderr with --json; every line is also in the run's log."""

    def __init__(self, stream, style) -> None:
        self.stream = stream
        self.style = style
        self.mirror = False  # set while a run's log is open

    def write(self, text: str = "", style: str | None = None) -> None:
        if self.mirror:
            for line in text.splitlines() or [""]:
                logger.info(line)
        styled = getattr(self.style, style)(text) if style else text
        self.stream.write(styled)
        self.stream.flush()

    def heading(self, text: str) -> None:
        self.write(text, "MIGRATE_HEADING")

    def check(self, check: dict) -> None:
        self.write(verdict_line(check), "SUCCESS" if check["pass"] else "ERROR")

    def verdict(self, code: int) -> None:
        self.write(
            f"Verdict: {'PASS' if code == 0 else 'FAIL'} (exit {code})",
            "SUCCESS" if code == 0 else "ERROR",
        )


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


def _resources(out: Console, verdict: dict) -> None:
    server = verdict["server"]
    if server:
        out.write(
            f"Server: peak RSS {server['peak_rss_mb']} MB over {server['processes']} "
            f"processes, CPU {server['cpu_seconds']} s (avg {server['avg_cpu_pct']} %, "
            f"peak {server['peak_cpu_pct']} %)"
        )
        out.write(
            memory.memory_line(
                server["rss_growth"], len(server["rss_timeline"]), server["uss_growth"]
            )
        )
    generator = verdict["load_generator"]
    if generator:
        out.write(
            f"Load generator: CPU {generator['cpu_seconds']} s "
            f"(avg {generator['avg_cpu_pct']} % of one core)"
        )


def _comparison(out: Console, comparison: dict | None) -> None:
    if comparison and "figures" in comparison:
        out.write(f"Compared with {comparison['baseline']}:")
        for key, row in comparison["figures"].items():
            change = "" if row["change_pct"] is None else f" ({row['change_pct']:+.1f} %)"
            out.write(f"  {key:<15} {row['now']!s:>12}  baseline {row['baseline']!s:>12}{change}")


def print_verdict(out: Console, verdict: dict, *, stock_outs: bool) -> None:
    """The report of one scenario: the table, resources, comparison, checks, verdict, files."""
    out.heading("== report")
    for line in summary_table(verdict["endpoints"], verdict["total"], stock_outs=stock_outs):
        out.write(line)
    _resources(out, verdict)
    _comparison(out, verdict["compare"])
    out.write("")
    if "skipped" in verdict["audit"]:
        out.write(verdict["audit"]["skipped"], "WARNING")
    for check in verdict["checks"]:
        out.check(check)
    for unjudged in verdict.get("not_judged", ()):
        out.write(f"[not judged] {unjudged['label']}", "WARNING")
    out.verdict(verdict["exit_code"])
    out.write("Reports:")
    for key in PRINTED_REPORTS:
        if key in verdict["reports"]:
            out.write(f"  {verdict['reports'][key]}")


def print_combined(out: Console, combined: dict) -> None:
    """`all`: one line per part, the skipped ones, the combined verdict and its file."""
    out.write("")
    out.heading("== all: combined verdict")
    for verdict in combined["parts"]:
        out.check(
            {
                "pass": verdict["pass"],
                "label": f"{verdict['scenario']}: exit {verdict['exit_code']}",
            }
        )
    for name in combined["skipped"]:
        out.check({"pass": False, "label": f"{name}: skipped (interrupted)"})
    out.verdict(combined["exit_code"])
    out.write(f"Combined verdict: {combined['reports']['json']}")
