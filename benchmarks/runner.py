"""`python -m benchmarks`: the ceilings, the service, each figure as a ratio of its ceiling.

One run, one machine, one load generator: every HTTP figure comes from the same
`locust --headless` command line (a subprocess; only the user class differs), so a noisy machine
moves ceiling and service together and the ratios stay comparable between runs.

Phases, in order:
  1. bare WSGI ceiling   benchmarks.bare_wsgi under gunicorn.conf.py, the same worker settings
  2. harness overhead    optional: `manage.py loadtest custom` vs plain locust on the bare app
  3. pgbench ceiling     the order transaction's SQL on one hot row (PostgreSQL only)
  4. the service         GET /products/, GET /products/{id}, POST /orders/ hot and spread,
                         the standard mix with auth; then the stock audit
"""

import argparse
import contextlib
import csv
import ipaddress
import json
import os
import platform
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from benchmarks.report import (
    DB_CEILING,
    HTTP_CEILING,
    Phase,
    apply_ratios,
    build_report,
    evaluate_goals,
    exact_percentile,
    format_goals,
    format_table,
    locust_failures,
    locust_stats,
    pgbench_latencies_ms,
    pgbench_summary,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USERS_FILE = ROOT / "benchmarks" / "users.py"
PGBENCH_SQL = ROOT / "benchmarks" / "pgbench_order.sql"
BENCH_DB_NAME = "shop_bench"
DEFAULT_DURATION = 20
QUICK_DURATION = 3

# Service phases: name, title, user class, users option, ceiling.
SERVICE_PHASES = [
    ("products_list", "GET /products/ (page of 50)", "ProductListUser", "users", HTTP_CEILING),
    ("product_detail", "GET /products/{id}", "ProductDetailUser", "users", HTTP_CEILING),
    ("orders_hot", "POST /orders/ hot row (auth)", "HotOrderUser", "order_clients", DB_CEILING),
    (
        "orders_spread",
        "POST /orders/ spread (auth)",
        "SpreadOrderUser",
        "order_clients",
        HTTP_CEILING,
    ),
    ("standard_mix", "standard mix (auth)", "StandardMixUser", "users", HTTP_CEILING),
]
ORDER_PHASES = {"orders_hot", "orders_spread", "standard_mix"}


class BenchError(Exception):
    """The run could not be made: exit 3 with this one line."""


def log(message: str) -> None:
    print(message, flush=True)


# --- Processes and CPU ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postg")]


class CpuMeter:
    """CPU seconds used by a set of processes over a window.

    Sampled a few times a second, so processes that start or end inside the window (pgbench's
    database backends, the load generator itself) count for the part of it that was seen.
    """

    def __init__(self, processes: Callable[[], list[psutil.Process]], interval: float = 0.25):
        self.processes = processes
        self.interval = interval
        self.first: dict[tuple[int, float], float] = {}
        self.last: dict[tuple[int, float], float] = {}
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self, initial: bool = False) -> None:
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                key = (process.pid, process.create_time())
                seconds = _cpu_seconds(process)
                self.first.setdefault(key, seconds if initial else 0.0)
                self.last[key] = seconds

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def __enter__(self) -> "CpuMeter":
        self._poll(initial=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
        self.seconds = max(sum(self.last[key] - self.first[key] for key in self.last), 0.0)


class MachineMeter:
    """Busy cores on the whole machine over a window: everybody's load, ours included."""

    def __enter__(self) -> "MachineMeter":
        self.start = psutil.cpu_times()
        self.start_wall = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end = psutil.cpu_times()
        wall = time.monotonic() - self.start_wall
        busy = (sum(end) - end.idle - getattr(end, "iowait", 0)) - (
            sum(self.start) - self.start.idle - getattr(self.start, "iowait", 0)
        )
        self.cores = busy / wall if wall > 0 else None


class Meters:
    """CPU seconds of the server, the database and the generator over one phase, and the busy
    cores of the whole machine. The caller divides seconds by the span the load really ran."""

    def __init__(self, server_pid: int | None, generator: Callable[[], list[psutil.Process]]):
        self.server_pid = server_pid
        self.parts = {
            "server_cpu": CpuMeter(lambda: _tree(server_pid) if server_pid else []),
            "db_cpu": CpuMeter(_postgres_processes),
            "generator_cpu": CpuMeter(generator),
        }
        self.machine = MachineMeter()
        self.seconds: dict[str, float | None] = {}

    def __enter__(self) -> "Meters":
        for meter in self.parts.values():
            meter.__enter__()
        self.machine.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.machine.__exit__()
        for meter in self.parts.values():
            meter.__exit__()
        self.seconds = {name: meter.seconds for name, meter in self.parts.items()}
        if not self.server_pid:
            self.seconds["server_cpu"] = None

    def apply(self, phase: Phase, span: float | None) -> None:
        """Cores used over the load's span, and server CPU milliseconds per request."""
        for name, seconds in self.seconds.items():
            setattr(phase, name, seconds / span if span and seconds is not None else None)
        server = self.seconds.get("server_cpu")
        if server is not None and phase.requests:
            phase.server_cpu_ms = server * 1000 / phase.requests
        phase.machine_cpu = self.machine.cores


# --- Servers -------------------------------------------------------------------------------------


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


class Gunicorn:
    """gunicorn -c gunicorn.conf.py APP on a free loopback port, output to a log file."""

    def __init__(self, app: str, env: dict[str, str], workdir: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.app = app
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, ready_path: str, timeout: float = 40.0) -> "Gunicorn":
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), self.app],
                cwd=ROOT,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.app} did not start: {self.tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                if http_get(self.url + ready_path, timeout=2)[0] == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"{self.app} did not answer {ready_path} within {timeout:.0f} s")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def tail(self, lines: int = 5) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(text[-lines:])
        return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def listening_pid(url: str) -> int | None:
    """The local process serving url's port, for CPU figures of an existing deployment."""
    parts = urlsplit(url)
    if not is_loopback(parts.hostname or ""):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with contextlib.suppress(psutil.Error, PermissionError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid:
                    process = psutil.Process(conn.pid)
                    parent = process.parent()
                    # A gunicorn worker's parent is the master: measure the whole tree.
                    if parent and parent.name() == process.name():
                        return parent.pid
                    return process.pid
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warm_up(base_url: str, paths: list[str], headers: dict[str, str], rounds: int = 60) -> None:
    """Touch every endpoint from several connections so every worker has loaded the app."""

    def one(path: str) -> None:
        with contextlib.suppress(OSError, urllib.error.URLError):
            http_get(base_url + path, headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, [paths[i % len(paths)] for i in range(rounds)]))


# --- Load ----------------------------------------------------------------------------------------


@dataclass
class Options:
    duration: int
    users: int
    order_clients: int
    products: int
    quick: bool
    workdir: Path
    env: dict[str, str]
    fixtures_path: Path | None = None
    fixtures: dict[str, Any] = field(default_factory=dict)


def locust_command(
    locustfile: Path, *, users: int, duration: int, host: str, prefix: Path
) -> list[str]:
    """The one load generator: locust headless, every user started at once, final stats as JSON."""
    return [
        *(str(BIN / "locust"), "-f", str(locustfile), "--headless", "--only-summary"),
        *("--users", str(users), "--spawn-rate", str(users), "--run-time", f"{duration}s"),
        *("--host", host, "--json-file", str(prefix)),
        *("--loglevel", "WARNING", "--exit-code-on-error", "0"),
    ]


def run_locust(
    opts: Options, *, phase: Phase, user_class: str, host: str, server_pid: int | None
) -> Phase:
    prefix = opts.workdir / phase.name
    command = locust_command(
        USERS_FILE, users=phase.users, duration=opts.duration, host=host, prefix=prefix
    )
    command += ["--csv", str(prefix), user_class]
    env = dict(opts.env)
    if opts.fixtures_path:
        env["BENCH_FIXTURES"] = str(opts.fixtures_path)
    with open(opts.workdir / f"{phase.name}.locust.log", "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        with Meters(server_pid, lambda: _tree(process.pid)) as measured:
            try:
                process.wait(timeout=opts.duration + 60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise BenchError(f"locust did not finish the {phase.name} phase") from None
    phase.duration_s = float(opts.duration)
    json_path = Path(f"{prefix}.json")
    if process.returncode != 0 or not json_path.exists():
        output = (opts.workdir / f"{phase.name}.locust.log").read_text(errors="replace")
        raise BenchError(f"locust failed in {phase.name}: {output.strip()[-300:]}")
    stats = locust_stats(json.loads(json_path.read_text()))
    phase.requests = stats["requests"]
    phase.failures = stats["failures"]
    phase.rps = stats["rps"]
    phase.p50_ms, phase.p95_ms, phase.p99_ms = stats["p50_ms"], stats["p95_ms"], stats["p99_ms"]
    if len(stats["endpoints"]) > 1:
        phase.endpoints = stats["endpoints"]
    measured.apply(phase, stats["requests"] / stats["rps"] if stats["rps"] else None)
    failures_csv = Path(f"{prefix}_failures.csv")
    if phase.failures and failures_csv.exists():
        with open(failures_csv, newline="") as handle:
            phase.failure_reasons = locust_failures(csv.DictReader(handle))
    output = (opts.workdir / f"{phase.name}.locust.log").read_text(errors="replace")
    if "CPU usage above" in output or "CPU usage was too high" in output:
        phase.notes.append("the load generator ran out of CPU (Locust's warning)")
    return phase


def run_pgbench(opts: Options, db: "Database") -> Phase:
    phase = Phase(
        name=DB_CEILING,
        title="pgbench order tx, hot row",
        kind="ceiling",
        users=opts.order_clients,
    )
    if db.engine != "postgresql":
        phase.skipped = "PostgreSQL not available (the service runs on SQLite)"
        return phase
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        phase.skipped = "pgbench not installed"
        return phase
    clients, jobs = opts.order_clients, min(opts.order_clients, os.cpu_count() or 1)
    command = [pgbench, "--no-vacuum", f"--client={clients}", f"--jobs={jobs}"]
    command += [f"--time={opts.duration}", f"--file={PGBENCH_SQL}"]
    command += ["--define", f"customer={opts.fixtures['customer_id']}"]
    command += ["--define", f"product={opts.fixtures['pgbench_product_id']}"]
    command += ["--log", f"--log-prefix={opts.workdir / 'pgbench'}", *db.pg_args()]
    env = {**os.environ, **db.pg_env()}
    process = subprocess.Popen(
        command, cwd=opts.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with Meters(None, lambda: _tree(process.pid)) as measured:
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
    phase.p50_ms = exact_percentile(latencies, 0.50)
    phase.p95_ms = exact_percentile(latencies, 0.95)
    phase.p99_ms = exact_percentile(latencies, 0.99)
    measured.apply(phase, float(opts.duration))
    phase.server_cpu = phase.db_cpu
    if phase.requests and measured.seconds["db_cpu"]:
        phase.server_cpu_ms = measured.seconds["db_cpu"] * 1000 / phase.requests
    return phase


# --- Database ------------------------------------------------------------------------------------


@dataclass
class Database:
    engine: str  # "postgresql" or "sqlite"
    url: str | None  # DATABASE_URL for the service; None for SQLite
    name: str
    sqlite_path: Path | None = None
    created: bool = False
    admin_url: str | None = None

    def env(self) -> dict[str, str]:
        if self.url:
            return {"DATABASE_URL": self.url}
        return {"SQLITE_PATH": str(self.sqlite_path)}

    def _parsed(self) -> dict[str, Any]:
        import dj_database_url

        return dj_database_url.parse(self.url or "")

    def pg_args(self) -> list[str]:
        parsed = self._parsed()
        args = []
        if parsed.get("HOST"):
            args += ["--host", str(parsed["HOST"])]
        if parsed.get("PORT"):
            args += ["--port", str(parsed["PORT"])]
        if parsed.get("USER"):
            args += ["--username", str(parsed["USER"])]
        return [*args, str(parsed["NAME"])]

    def pg_env(self) -> dict[str, str]:
        password = self._parsed().get("PASSWORD")
        return {"PGPASSWORD": str(password)} if password else {}

    def describe(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite {self.sqlite_path}"
        parsed = self._parsed()
        where = f"{parsed.get('HOST') or 'localhost'}:{parsed.get('PORT') or 5432}"
        return f"postgresql {where}/{self.name}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def prepare_database(explicit_url: str | None, workdir: Path) -> Database:
    """The database the benchmark may write: the given URL as is, else its own shop_bench."""
    if explicit_url:
        if explicit_url.startswith("sqlite"):
            import dj_database_url

            path = Path(dj_database_url.parse(explicit_url)["NAME"])
            return Database("sqlite", None, path.name, sqlite_path=path)
        name = urlsplit(explicit_url).path.lstrip("/")
        return Database("postgresql", explicit_url, name)

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://", "pgsql://")):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    admin_url = _with_database(server, "postgres")
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DB_NAME}"')
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        log(f"PostgreSQL not available ({type(exc).__name__}): the service runs on SQLite")
        path = workdir / "bench.sqlite3"
        return Database("sqlite", None, path.name, sqlite_path=path)
    return Database(
        "postgresql",
        _with_database(server, BENCH_DB_NAME),
        BENCH_DB_NAME,
        created=True,
        admin_url=admin_url,
    )


def drop_database(db: Database) -> None:
    if not db.created or not db.admin_url:
        return
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(db.admin_url, connect_timeout=2, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def migrate_and_seed(opts: Options, db: Database) -> None:
    result = manage(opts.env, "migrate", "--noinput")
    if result.returncode != 0:
        raise BenchError(f"migrate failed: {result.stderr.strip()[-300:]}")
    fixtures_path = opts.workdir / "fixtures.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.seed",
            "--products",
            str(opts.products),
            "--out",
            str(fixtures_path),
        ],
        cwd=ROOT,
        env=opts.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise BenchError(f"seeding failed: {result.stderr.strip()[-300:]}")
    opts.fixtures_path = fixtures_path
    opts.fixtures = json.loads(fixtures_path.read_text())


def stock_audit(env: dict[str, str]) -> dict[str, Any]:
    result = manage(env, "audit_stock", "--json", timeout=120)
    audit: dict[str, Any] = {"exit_code": result.returncode}
    with contextlib.suppress(ValueError):
        audit.update(json.loads(result.stdout.strip().splitlines()[-1]))
    audit["ok"] = result.returncode == 0
    if result.returncode not in (0, 2):
        audit["error"] = result.stderr.strip()[-300:]
    return audit


# --- Harness overhead (optional) -----------------------------------------------------------------


def _find_rps(data: Any) -> float | None:
    """The aggregate req/s in a loadtest verdict, wherever its author put it."""
    if isinstance(data, dict):
        for key in ("total", "totals", "aggregate", "aggregated", "Aggregated", "summary"):
            if key in data:
                found = _find_rps(data[key])
                if found is not None:
                    return found
        for key in ("rps", "requests_per_second", "req_per_s", "current_rps", "total_rps"):
            value = data.get(key)
            if isinstance(value, int | float):
                return float(value)
    return None


def _locust_aggregated(stats_csv: Path) -> dict[str, float] | None:
    """Locust's own Aggregated row of a stats CSV: requests, and req/s over test start -> last
    request (StatsEntry.total_rps)."""
    with contextlib.suppress(OSError, KeyError, ValueError):
        with open(stats_csv, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["Name"] == "Aggregated":
                    return {"requests": int(row["Request Count"]), "rps": float(row["Requests/s"])}
    return None


def _bare_plain_locust(opts: Options, bare_url: str) -> dict[str, Any]:
    """BareUser under plain `locust --headless`: {"rps", "requests"} or {"failed": reason}."""
    prefix = opts.workdir / "harness_plain_locust"
    command = locust_command(
        USERS_FILE, users=opts.users, duration=opts.duration, host=bare_url, prefix=prefix
    )
    command += ["BareUser"]
    json_path = Path(f"{prefix}.json")
    json_path.unlink(missing_ok=True)  # the pairs reuse the name: never read an earlier run's
    run = subprocess.run(
        command, cwd=ROOT, env=opts.env, capture_output=True, text=True, timeout=opts.duration + 90
    )
    if run.returncode != 0 or not json_path.exists():
        return {"failed": f"plain locust failed: {_tail(run)}"}
    # Its JSON, not its stats CSV: the CSV's last periodic write comes before the run ends.
    stats = locust_stats(json.loads(json_path.read_text()))
    return {"rps": stats["rps"], "requests": stats["requests"]}


def _bare_loadtest_custom(opts: Options, bare_url: str) -> dict[str, Any]:
    """BareUser under `manage.py loadtest custom --locustfile`: {"rps", "requests",
    "steady_rps", "exit_code"} or {"failed": reason}."""
    command = [sys.executable, str(ROOT / "manage.py"), "loadtest", "custom", "--host", bare_url]
    command += ["--locustfile", str(USERS_FILE), "--user-classes", "BareUser"]
    command += ["--users", str(opts.users), "--spawn-rate", str(opts.users)]
    command += ["--run-time", f"{opts.duration}s", "--json"]
    command += ["--results-dir", str(opts.workdir / "harness_results")]
    run = subprocess.run(
        command, cwd=ROOT, env=opts.env, capture_output=True, text=True, timeout=opts.duration + 180
    )
    verdict: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        verdict = json.loads(run.stdout)
    # The harness rewrites Locust's stats CSV once more after the load: its last row is final.
    stats_csv = (verdict.get("reports") or {}).get("csv")
    figures = _locust_aggregated(Path(stats_csv)) if stats_csv else None
    if figures is None:
        return {"failed": f"loadtest custom failed (exit {run.returncode}: {_tail(run)})"}
    return {**figures, "steady_rps": _find_rps(verdict), "exit_code": run.returncode}


def harness_overhead(opts: Options, bare_url: str) -> dict[str, Any]:
    """`manage.py loadtest custom --locustfile benchmarks/users.py --user-classes BareUser` vs
    plain `locust --headless ... BareUser` (locust_command, the generator of every other figure):
    the same users, all spawned at once, the same run time, no think time (BareUser waits
    constant(0)), both against the bare app, so the load generator is the limit and what the
    harness adds per request (recorder, progress line, CSV writer, resource sampler) shows.

    Comparable windows: both req/s are Locust's own whole-run figure, requests / (start -> last
    request): plain Locust's from its JSON (locust_stats, as every other figure), the harness's
    from the Aggregated row of Locust's stats CSV, which it writes too. The verdict's own req/s
    covers the harness's steady state only (after the ramp-up), which plain Locust does not
    report; it is recorded beside (`loadtest_custom_steady_rps`), not used for the ratio.
    Each side runs twice, in the order plain, harness, harness, plain.
    """
    # Plain, harness, harness, plain (ABBA): a machine whose speed drifts during the phase moves
    # both sides alike, and one noisy run weighs half as much.
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "harness": []}
    for side in ("plain", "harness", "harness", "plain"):
        measured = (
            _bare_plain_locust(opts, bare_url)
            if side == "plain"
            else _bare_loadtest_custom(opts, bare_url)
        )
        if "failed" in measured:
            done = runs["plain"][:1]
            return {
                "skipped": measured["failed"],
                **({"plain_locust_rps": done[0]["rps"]} if done else {}),
            }
        runs[side].append(measured)
    plain_rps = sum(run["rps"] for run in runs["plain"]) / 2
    harness_rps = sum(run["rps"] for run in runs["harness"]) / 2
    return {
        "users": opts.users,
        "duration_s": opts.duration,
        "user_class": "BareUser (no think time)",
        "order": "plain, harness, harness, plain; the mean of each side",
        "window": "whole run, Locust's own figures: requests / (start -> last request)",
        "plain_locust_rps": plain_rps,
        "plain_locust_runs_rps": [run["rps"] for run in runs["plain"]],
        "loadtest_custom_rps": harness_rps,
        "loadtest_custom_runs_rps": [run["rps"] for run in runs["harness"]],
        "loadtest_custom_steady_rps": [run["steady_rps"] for run in runs["harness"]],
        "ratio": harness_rps / plain_rps if plain_rps else None,
        "loadtest_exit_codes": [run["exit_code"] for run in runs["harness"]],
    }


def _tail(result: subprocess.CompletedProcess, length: int = 240) -> str:
    text = (result.stderr or result.stdout or "").strip()
    return " ".join(text.splitlines()[-3:])[-length:]


# --- The run -------------------------------------------------------------------------------------


def gunicorn_settings(env: dict[str, str]) -> dict[str, Any]:
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {key: conf.get(key) for key in ("workers", "worker_class", "threads", "accesslog")}


def drop_cache_keys(redis_url: str, prefix: str) -> None:
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    with contextlib.suppress(OSError):
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    return False


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Ceilings and service figures in one run; each figure a ratio of its ceiling.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="CI smoke: seconds, not minutes")
    add("--duration", type=int, help=f"seconds per phase (default {DEFAULT_DURATION})")
    add("--users", type=int, help="users for reads, the mix and the bare ceiling (default 50)")
    add("--order-clients", type=int, default=20, help="users for orders, pgbench clients (20)")
    add("--products", type=int, help="products to seed (default 500)")
    add("--json-out", type=Path, help="default bench_results/bench_<stamp>.json")
    add(
        "--database-url",
        help="use this database as is (migrated and seeded, never dropped); default: a dedicated "
        f"{BENCH_DB_NAME} on the PostgreSQL server of DATABASE_URL or 127.0.0.1:5432, else SQLite",
    )
    add(
        "--host",
        help="benchmark an existing deployment at this URL instead of starting the service; its "
        "order and mix phases need --database-url (the deployment's database, for fixtures and "
        "the audit)",
    )
    add("--allow-remote", action="store_true", help="allow a --host that is not loopback")
    add(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the service's cache (default: REDIS_URL, else redis://127.0.0.1:6379/15 when it "
        "answers); 'none' for the local-memory cache",
    )
    add(
        "--only",
        help="comma-separated service phases to run (default all): "
        + ", ".join(name for name, *_ in SERVICE_PHASES),
    )
    add(
        "--profile",
        nargs="?",
        const="cpu",
        choices=["cpu", "wall"],
        help="record the service with py-spy in each phase: cpu (default; only threads holding "
        "the GIL) or wall (also time waiting for the database, Redis, the GIL)",
    )
    add(
        "--harness",
        action=argparse.BooleanOptionalAction,
        help="measure the harness overhead (loadtest custom vs plain locust); default on, off "
        "with --quick",
    )
    add("--keep-db", action="store_true", help=f"keep {BENCH_DB_NAME} afterwards")
    add("--keep-work", action="store_true", help="keep logs and raw outputs (path printed)")
    args = parser.parse_args(argv)
    if args.harness is None:
        args.harness = not args.quick
    known = {name for name, *_ in SERVICE_PHASES}
    args.only = set(args.only.split(",")) if args.only else known
    if args.only - known:
        parser.error(f"unknown phase(s) in --only: {', '.join(sorted(args.only - known))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return Run(args).run()
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("benchmark interrupted", file=sys.stderr)
        return 130


class Run:
    """One benchmark run: set up, measure the ceilings, measure the service, report."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.started = datetime.now(UTC)
        self.stamp = self.started.strftime("%Y%m%d_%H%M%S")
        self.json_out = args.json_out or ROOT / "bench_results" / f"bench_{self.stamp}.json"
        self.workdir = Path(tempfile.mkdtemp(prefix="shop_bench_"))
        self.servers: list[Gunicorn] = []
        self.db: Database | None = None
        self.phases: list[Phase] = []
        self.profiles: dict[str, str] = {}
        self.harness: dict[str, Any] = {}
        self.invariant: dict[str, Any] | None = None
        self.own_cache: tuple[str, str] | None = None

    def run(self) -> int:
        args = self.args
        host = urlsplit(args.host).hostname if args.host else None
        if host is not None and not args.allow_remote and not is_loopback(host):
            raise BenchError(f"{args.host} is not a loopback address; add --allow-remote")
        try:
            self.setup()
            self.measure_http_ceiling()
            self.measure_db_ceiling()
            self.measure_service()
            for server in self.servers:
                server.stop()
            return self.report()
        finally:
            for server in self.servers:
                with contextlib.suppress(Exception):
                    server.stop()
            if self.db is not None and not args.keep_db:
                drop_database(self.db)
            if self.own_cache:
                drop_cache_keys(*self.own_cache)
            if args.keep_work:
                log(f"work files: {self.workdir}")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def setup(self) -> None:
        args = self.args
        quick = args.quick
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
        env.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
        env.pop("REDIS_URL", None)
        redis_url = None if args.redis_url in ("", "none") else args.redis_url
        if redis_url and not redis_reachable(redis_url):
            log(f"Redis at {redis_url} does not answer: the service uses the local-memory cache")
            redis_url = None
        if redis_url:
            env["REDIS_URL"] = redis_url
            if "CACHE_KEY_PREFIX" not in env:
                # A prefix of its own: no run reads another's cache, and it is removed at the end.
                env["CACHE_KEY_PREFIX"] = f"shop_bench_{self.stamp}"
                self.own_cache = (redis_url, env["CACHE_KEY_PREFIX"])
        if args.host is None or args.database_url is not None:
            self.db = prepare_database(args.database_url, self.workdir)
            env.update(self.db.env())
        self.opts = Options(
            duration=args.duration or (QUICK_DURATION if quick else DEFAULT_DURATION),
            users=args.users or (10 if quick else 50),
            order_clients=min(args.order_clients, 10) if quick else args.order_clients,
            products=args.products or (100 if quick else 500),
            quick=quick,
            workdir=self.workdir,
            env=env,
        )
        gconf = gunicorn_settings(env)
        self.config = {
            "duration_s": self.opts.duration,
            "users": self.opts.users,
            "order_clients": self.opts.order_clients,
            "products": self.opts.products,
            "quick": quick,
            "host": args.host,
            "database": self.db.describe() if self.db else "the deployment's (not seeded)",
            "cache": "redis" if redis_url else "locmem",
            "product_cache_seconds": env.get("PRODUCT_CACHE_SECONDS"),
            "gunicorn": gconf,
            "generator": "locust --headless, FastHttpUser, one process",
            "mix_think_time_s": env.get("BENCH_MIX_WAIT", "0.025,0.075"),
            "profiled": args.profile,
        }
        self.machine = {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
        log(
            f"benchmark: {self.opts.duration} s a phase, {self.opts.users} users, "
            f"{self.opts.order_clients} order clients; gunicorn {gconf['workers']} x "
            f"{gconf['worker_class']} (threads {gconf['threads']}); database "
            f"{self.config['database']}; cache {self.config['cache']}"
        )
        if self.db is not None:
            log("migrating and seeding ...")
            migrate_and_seed(self.opts, self.db)

    def measure_http_ceiling(self) -> None:
        opts = self.opts
        bare = Gunicorn("benchmarks.bare_wsgi:application", opts.env, self.workdir, "bare")
        self.servers.append(bare)
        bare.start("/")
        warm_up(bare.url, ["/"], {})
        phase = Phase(
            name=HTTP_CEILING, title="bare WSGI (HTTP ceiling)", kind="ceiling", users=opts.users
        )
        log(f"== {phase.title}: {opts.users} users, {opts.duration} s")
        self.phases.append(
            run_locust(opts, phase=phase, user_class="BareUser", host=bare.url, server_pid=bare.pid)
        )
        log(f"   {summary_line(phase)}")
        if not self.args.harness:
            self.harness = {"skipped": "not asked for (--no-harness, or --quick)"}
        else:
            log("== harness overhead: loadtest custom vs plain locust, bare app")
            self.harness = harness_overhead(opts, bare.url)
        if "skipped" in self.harness:
            log(f"   skipped: {self.harness['skipped']}")
        else:
            log(
                f"   plain locust {self.harness['plain_locust_rps']:.0f} req/s, loadtest custom "
                f"{self.harness['loadtest_custom_rps']:.0f} req/s"
            )
        bare.stop()

    def measure_db_ceiling(self) -> None:
        opts = self.opts
        log(f"== pgbench: order transaction, hot row, {opts.order_clients} clients")
        if self.db is None:
            phase = Phase(name=DB_CEILING, title="pgbench order tx, hot row", kind="ceiling")
            phase.skipped = "no --database-url for the deployment"
        else:
            phase = run_pgbench(opts, self.db)
        self.phases.append(phase)
        log(f"   {'skipped: ' + phase.skipped if phase.skipped else summary_line(phase)}")

    def measure_service(self) -> None:
        opts, args = self.opts, self.args
        if args.host:
            url = args.host.rstrip("/")
            pid = listening_pid(url)
            if not opts.fixtures:
                opts.fixtures = discover_products(url)
                opts.fixtures_path = self.workdir / "fixtures.json"
                opts.fixtures_path.write_text(json.dumps(opts.fixtures))
        else:
            service = Gunicorn("shop.wsgi", opts.env, self.workdir, "service")
            self.servers.append(service)
            service.start("/health")
            url, pid = service.url, service.pid
        token = opts.fixtures.get("customer_token")
        ids = opts.fixtures.get("product_ids") or [1]
        auth = {"Authorization": f"Token {token}"} if token else {}
        warm_up(url, ["/products/", f"/products/{ids[0]}", "/health"], auth)

        for name, title, user_class, users_key, ceiling in SERVICE_PHASES:
            if name not in args.only:
                continue
            phase = Phase(name=name, title=title, kind="service", users=getattr(opts, users_key))
            phase.ceiling = ceiling
            if name in ORDER_PHASES and not token:
                phase.skipped = "needs --database-url (fixtures and the audit)"
            elif not opts.fixtures.get("product_ids"):
                phase.skipped = "no products to read"
            self.phases.append(phase)
            if phase.skipped:
                log(f"== {title}: skipped: {phase.skipped}")
                continue
            log(f"== {title}: {phase.users} users, {opts.duration} s")
            with self.profiling(name, pid):
                run_locust(opts, phase=phase, user_class=user_class, host=url, server_pid=pid)
            log(f"   {summary_line(phase)}")
        if self.db is not None:
            self.invariant = stock_audit(opts.env)
            state = "holds" if self.invariant["ok"] else "BROKEN"
            log(f"== stock audit after the load: invariant {state}")

    @contextlib.contextmanager
    def profiling(self, name: str, pid: int | None) -> Iterator[None]:
        """py-spy on every gunicorn worker for the phase (--profile)."""
        if not self.args.profile or pid is None:
            yield
            return
        pyspy = shutil.which("py-spy") or str(BIN / "py-spy")
        raw = self.json_out.with_name(f"{self.json_out.stem}_{name}.pyspy.txt")
        raw.parent.mkdir(parents=True, exist_ok=True)
        command = [pyspy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
        if self.args.profile == "cpu":
            command.append("--gil")
        command += ["--rate", "100", "--format", "raw", "--output", str(raw)]
        command += ["--duration", str(self.opts.duration)]
        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            yield
        finally:
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recorder.kill()
        if raw.exists():
            from benchmarks.profile import summarize

            with open(raw) as handle:
                self.profiles[name] = summarize(handle).format()
            log(self.profiles[name])
            log(f"   raw stacks: {raw}")
        else:
            log(f"   py-spy recorded nothing: {recorder.stderr.read().decode()[-200:]}")

    def report(self) -> int:
        apply_ratios(self.phases)
        invariant_ok = self.invariant["ok"] if self.invariant else None
        goals = evaluate_goals(
            self.phases,
            invariant_ok=invariant_ok,
            harness_ratio=self.harness.get("ratio"),
            harness_skipped=self.harness.get("skipped"),
        )
        report = build_report(
            phases=self.phases,
            goals=goals,
            config=self.config,
            machine=self.machine,
            invariant=self.invariant,
            harness=self.harness,
            started_at=self.started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if self.profiles:
            report["profiles"] = self.profiles
        write_json(report, self.json_out)
        log("")
        log(format_table(self.phases))
        log("")
        log("ms: latency; CPU: cores (1.00 = one core); ms/req: server CPU per request;")
        log("ratio: req/s as a share of the ceiling named in 'of'")
        log(format_goals(goals))
        log(f"\nJSON: {self.json_out}")
        if invariant_ok is False:
            print("stock invariant broken after the load", file=sys.stderr)
            return 2
        return 0


def summary_line(phase: Phase) -> str:
    return (
        f"{phase.rps or 0:.0f} req/s, p50 {phase.p50_ms} ms, p95 {phase.p95_ms} ms, "
        f"{phase.failures} errors, server CPU {phase.server_cpu or 0:.2f} cores"
    )


def discover_products(url: str) -> dict[str, Any]:
    """Product ids of an existing deployment, for the read phases."""
    with contextlib.suppress(OSError, urllib.error.URLError, ValueError, KeyError):
        status, body = http_get(f"{url}/products/?page_size=500", timeout=10)
        if status == 200:
            return {"product_ids": [p["id"] for p in json.loads(body)["products"]]}
    return {"product_ids": []}
