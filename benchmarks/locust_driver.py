"""The HTTP load driver: `locust --headless` as a subprocess, one user class per phase.

Every HTTP figure of a run comes from the same command line (locust_command), so a noisy machine
moves ceilings and service together. Locust runs in its own process: nothing here imports locust
or gevent.
"""

import csv
import json
import subprocess
from pathlib import Path

from benchmarks.base import BIN, ROOT, BenchError, Options
from benchmarks.meters import Meters, process_tree
from benchmarks.parsing import locust_failures, locust_stats
from benchmarks.report import Phase

USERS_FILE = ROOT / "benchmarks" / "users.py"
GENERATOR_CPU_WARNINGS = ("CPU usage above", "CPU usage was too high")


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
    opts: Options,
    *,
    phase: Phase,
    user_class: str,
    host: str,
    server_pid: int | None,
    label: str | None = None,
) -> Phase:
    """Run one phase's load, metering the server, the database and the generator; fill phase.
    Its files in the work directory are named for the phase, or for `label` (a phase run again)."""
    label = label or phase.name
    prefix = opts.workdir / label
    command = locust_command(
        USERS_FILE, users=phase.users, duration=opts.duration, host=host, prefix=prefix
    )
    command += ["--csv", str(prefix), user_class]
    env = dict(opts.env)
    if opts.fixtures_path:
        env["BENCH_FIXTURES"] = str(opts.fixtures_path)
    log_path = opts.workdir / f"{label}.locust.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        with Meters(server_pid, lambda: process_tree(process.pid)) as measured:
            try:
                process.wait(timeout=opts.duration + 60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise BenchError(f"locust did not finish the {phase.name} phase") from None
            except BaseException:  # Ctrl-C, SIGTERM: the load stops with the run
                process.kill()
                process.wait()
                raise
    phase.duration_s = float(opts.duration)
    output = log_path.read_text(errors="replace")
    json_path = Path(f"{prefix}.json")
    if process.returncode != 0 or not json_path.exists():
        raise BenchError(f"locust failed in {phase.name}: {output.strip()[-300:]}")
    stats = locust_stats(json.loads(json_path.read_text()))
    fill_phase(phase, stats)
    measured.apply(phase, stats["requests"] / stats["rps"] if stats["rps"] else None)
    read_failures(phase, Path(f"{prefix}_failures.csv"))
    if any(warning in output for warning in GENERATOR_CPU_WARNINGS):
        phase.notes.append("the load generator ran out of CPU (Locust's warning)")
    return phase


def fill_phase(phase: Phase, stats: dict) -> None:
    """Locust's figures (locust_stats) on the phase; endpoints only when there are several."""
    phase.requests = stats["requests"]
    phase.failures = stats["failures"]
    phase.rps = stats["rps"]
    phase.p50_ms, phase.p95_ms, phase.p99_ms = stats["p50_ms"], stats["p95_ms"], stats["p99_ms"]
    if len(stats["endpoints"]) > 1:
        phase.endpoints = stats["endpoints"]


def read_failures(phase: Phase, failures_csv: Path) -> None:
    if phase.failures and failures_csv.exists():
        with open(failures_csv, newline="") as handle:
            phase.failure_reasons = locust_failures(csv.DictReader(handle))
