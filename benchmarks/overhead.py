"""The harness's overhead: `manage.py loadtest custom` against plain `locust --headless`, the same
BareUser on the bare app, in the order plain, harness, harness, plain.

`manage.py loadtest custom --locustfile benchmarks/users.py --user-classes BareUser` vs plain
`locust --headless ... BareUser` (locust_command, the generator of every other figure): the same
users, all spawned at once, the same run time, no think time, both against the bare app, so the
load generator is the limit and what the harness adds per request (recorder, progress line, CSV
writer, resource sampler) shows.

Comparable windows: both req/s are Locust's own whole-run figure, requests / (start -> last
request): plain Locust's from its JSON (locust_stats, as every other figure), the harness's from
the Aggregated row of Locust's stats CSV, which it writes too. The verdict's own req/s covers the
harness's steady state only (after the ramp-up), which plain Locust does not report; it is
recorded beside (`loadtest_custom_steady_rps`), not used for the ratio.
"""

import contextlib
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.base import ROOT, Options, tail
from benchmarks.locust_driver import USERS_FILE, locust_command
from benchmarks.parsing import locust_stats

# Plain, harness, harness, plain (ABBA): a machine whose speed drifts during the phase moves both
# sides alike, and one noisy run weighs half as much.
ORDER = ("plain", "harness", "harness", "plain")


def find_rps(data: Any) -> float | None:
    """The aggregate req/s in a loadtest verdict, wherever its author put it."""
    if isinstance(data, dict):
        for key in ("total", "totals", "aggregate", "aggregated", "Aggregated", "summary"):
            if key in data:
                found = find_rps(data[key])
                if found is not None:
                    return found
        for key in ("rps", "requests_per_second", "req_per_s", "current_rps", "total_rps"):
            value = data.get(key)
            if isinstance(value, int | float):
                return float(value)
    return None


def locust_aggregated(stats_csv: Path) -> dict[str, float] | None:
    """Locust's own Aggregated row of a stats CSV: requests, and req/s over test start -> last
    request (StatsEntry.total_rps)."""
    with contextlib.suppress(OSError, KeyError, ValueError):
        with open(stats_csv, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["Name"] == "Aggregated":
                    return {"requests": int(row["Request Count"]), "rps": float(row["Requests/s"])}
    return None


def bare_plain_locust(opts: Options, bare_url: str) -> dict[str, Any]:
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
        return {"failed": f"plain locust failed: {tail(run)}"}
    # Its JSON, not its stats CSV: the CSV's last periodic write comes before the run ends.
    stats = locust_stats(json.loads(json_path.read_text()))
    return {"rps": stats["rps"], "requests": stats["requests"]}


def bare_loadtest_custom(opts: Options, bare_url: str) -> dict[str, Any]:
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
    figures = locust_aggregated(Path(stats_csv)) if stats_csv else None
    if figures is None:
        return {"failed": f"loadtest custom failed (exit {run.returncode}: {tail(run)})"}
    return {**figures, "steady_rps": find_rps(verdict), "exit_code": run.returncode}


def harness_overhead(opts: Options, bare_url: str) -> dict[str, Any]:
    """Both sides twice (ORDER); the mean req/s of each and their ratio, or {"skipped": why}."""
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "harness": []}
    for side in ORDER:
        if side == "plain":
            measured = bare_plain_locust(opts, bare_url)
        else:
            measured = bare_loadtest_custom(opts, bare_url)
        if "failed" in measured:
            done = runs["plain"][:1]
            return {
                "skipped": measured["failed"],
                **({"plain_locust_rps": done[0]["rps"]} if done else {}),
            }
        runs[side].append(measured)
    return overhead_figures(opts, runs)


def overhead_figures(opts: Options, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The experiment's record: each side's runs and mean, the ratio harness / plain."""
    plain_rps = sum(run["rps"] for run in runs["plain"]) / len(runs["plain"])
    harness_rps = sum(run["rps"] for run in runs["harness"]) / len(runs["harness"])
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
