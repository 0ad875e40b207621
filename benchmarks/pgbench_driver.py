"""The database ceiling: pgbench running the order transaction's own SQL on one hot row.

`benchmarks/pgbench_order.sql` is the statements orders.services.order_place sends for a one-line
order; the phase's CPU per transaction is PostgreSQL's own (every postgres process, metered).
"""

import os
import shutil
import subprocess

from benchmarks.base import ROOT, Options
from benchmarks.database import Database
from benchmarks.meters import Meters, process_tree
from benchmarks.parsing import pgbench_latencies_ms, pgbench_summary
from benchmarks.report import DB_CEILING, Phase
from loadtesting.percentiles import percentile

PGBENCH_SQL = ROOT / "benchmarks" / "pgbench_order.sql"
TITLE = "pgbench order tx, hot row"


def pgbench_command(pgbench: str, opts: Options, db: Database) -> list[str]:
    clients, jobs = opts.order_clients, min(opts.order_clients, os.cpu_count() or 1)
    command = [pgbench, "--no-vacuum", f"--client={clients}", f"--jobs={jobs}"]
    command += [f"--time={opts.duration}", f"--file={PGBENCH_SQL}"]
    command += ["--define", f"customer={opts.fixtures['customer_id']}"]
    command += ["--define", f"product={opts.fixtures['pgbench_product_id']}"]
    command += ["--log", f"--log-prefix={opts.workdir / 'pgbench'}", *db.pg_args()]
    return command


def run_pgbench(opts: Options, db: Database) -> Phase:
    """The pgbench ceiling phase; skipped (and said why) without PostgreSQL or pgbench."""
    phase = Phase(name=DB_CEILING, title=TITLE, kind="ceiling", users=opts.order_clients)
    if db.engine != "postgresql":
        phase.skipped = "PostgreSQL not available (the service runs on SQLite)"
        return phase
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        phase.skipped = "pgbench not installed"
        return phase
    env = {**os.environ, **db.pg_env()}
    process = subprocess.Popen(
        pgbench_command(pgbench, opts, db),
        cwd=opts.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with Meters(None, lambda: process_tree(process.pid)) as measured:
        stdout, stderr = process.communicate(timeout=opts.duration + 60)
    summary = pgbench_summary(stdout.decode(errors="replace"))
    if process.returncode != 0 or summary["tps"] is None:
        phase.skipped = f"pgbench failed: {stderr.decode(errors='replace').strip()[-200:]}"
        return phase
    latencies: list[float] = []
    for path in opts.workdir.glob("pgbench.*"):
        latencies += pgbench_latencies_ms(path.read_text().splitlines())
    phase.duration_s = float(opts.duration)
    phase.requests = summary["transactions"]
    phase.failures = summary["failed"]
    phase.rps = summary["tps"]
    if latencies:
        phase.p50_ms, phase.p95_ms, phase.p99_ms = (percentile(latencies, q) for q in (50, 95, 99))
    measured.apply(phase, float(opts.duration))
    # The server under test here is PostgreSQL: its CPU is the phase's server CPU.
    phase.server_cpu = phase.db_cpu
    if phase.requests and measured.seconds["db_cpu"]:
        phase.server_cpu_ms = measured.seconds["db_cpu"] * 1000 / phase.requests
    return phase
