"""`python -m benchmarks.ab --base REV`: this tree's service against another commit's, interleaved.

The base commit is checked out in a `git worktree` of a temporary directory (removed at the end,
also on Ctrl-C or a failure). Each tree's shop runs under its own gunicorn.conf.py, through the
benchmark's launcher (benchmarks.service.start_gunicorn), with the same environment: the same
database, migrated and seeded once by this tree (benchmarks.seed), the same worker count, the
access log off, a cache prefix of each side's own. Both servers stay up; for each phase the
benchmark's own load (benchmarks.users through benchmarks.locust_driver, the generator of every
`make bench` figure) alternates base, change, change, base, ... and the benchmark's meters give
each round's server CPU per request (gunicorn's process tree CPU / requests) and req/s. A
machine whose speed drifts moves both sides alike; the medians and the change/base ratio are
printed per phase, with the spread of the rounds and of the adjacent base/change pairs.

Exit codes as `python -m benchmarks`: 0 done, 2 bad options (one line) or the stock invariant
broken after the load, 3 the run could not be made, 130 interrupted.
"""

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.base import ROOT, BenchError, Options, log, tail
from benchmarks.database import (
    Database,
    drop_database,
    migrate_and_seed,
    prepare_database,
    stock_audit,
)
from benchmarks.locust_driver import run_locust
from benchmarks.report import HTTP_CEILING, Phase, write_json
from benchmarks.run import SERVICE_PHASES, describe_machine, service_env
from benchmarks.service import (
    SHOP_APP,
    drop_cache_keys,
    gunicorn_settings,
    start_gunicorn,
    stop_gunicorn,
    warm_up,
)

AB_DB_NAME = "shop_ab"
SIDES = ("base", "change")
# The keyed order is the spread order with an Idempotency-Key of its own on every request.
KEYED_ORDER_PHASE = (
    "orders_keyed",
    "POST /orders/ spread, Idempotency-Key (auth)",
    "KeyedOrderUser",
    "order_clients",
    HTTP_CEILING,
)
BENCH_PHASES = {row[0]: row for row in [*SERVICE_PHASES, KEYED_ORDER_PHASE]}
# The A/B's phase names -> the benchmark phase each one runs.
PHASES = {
    "order": "orders_spread",
    "order_keyed": "orders_keyed",
    "order_hot": "orders_hot",
    "product_list": "products_list",
    "product_detail": "product_detail",
    "mix": "standard_mix",
}
DEFAULT_PHASES = ("order", "order_keyed", "product_list", "product_detail", "mix")
# What each round is judged on: the figure, its label in the tables.
METRICS = (
    ("server_cpu_ms", "CPU ms/req"),
    ("db_cpu_ms", "DB CPU ms/req"),
    ("rps", "req/s"),
    ("p95_ms", "p95 ms"),
)
CPU_METRICS = ("server_cpu_ms", "db_cpu_ms")
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")
REDIS_SCHEMES = ("redis", "rediss", "unix")


# --- Options ------------------------------------------------------------------------------------


class OneLineParser(argparse.ArgumentParser):
    """Bad options are one line on stderr and exit 2, before anything starts."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m benchmarks.ab",
        description="Server CPU per request and req/s of this tree against --base, interleaved.",
    )
    add = parser.add_argument
    add("--base", required=True, help="the commit to compare with (any git revision: HEAD~3)")
    add(
        "--phases",
        default=",".join(DEFAULT_PHASES),
        help=f"comma-separated, of {', '.join(PHASES)} (default {','.join(DEFAULT_PHASES)})",
    )
    add("--rounds", type=int, default=4, help="measurements per side and phase (default 4)")
    add("--seconds", type=int, default=15, help="seconds per measurement (default 15)")
    add("--workers", type=int, default=3, help="gunicorn workers of each side (default 3)")
    add("--users", type=int, default=50, help="users for reads and the mix (default 50)")
    add("--order-clients", type=int, default=20, help="users for orders (default 20)")
    add("--products", type=int, default=500, help="products to seed (default 500)")
    add(
        "--database-url",
        help="use this database as is (migrated and seeded, never dropped); default: a dedicated "
        f"{AB_DB_NAME} on the PostgreSQL server of DATABASE_URL or 127.0.0.1:5432, else SQLite",
    )
    add(
        "--redis-url",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the services' cache (default: REDIS_URL, else redis://127.0.0.1:6379/15 when it "
        "answers); 'none' for the local-memory cache",
    )
    add("--json-out", type=Path, help="default bench_results/ab_<stamp>.json")
    add("--keep-db", action="store_true", help=f"keep {AB_DB_NAME} afterwards")
    add("--keep-work", action="store_true", help="keep logs and raw outputs (path printed)")
    return parser


def git(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def resolve_commit(rev: str) -> str | None:
    """The full hash of the commit `rev` names, or None."""
    if not rev or rev.startswith("-"):
        return None
    found = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else None


def parse_phases(text: str) -> list[str] | str:
    """The phases asked for, in order and once each; or the error."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in PHASES]
    if unknown:
        return f"unknown phase(s): {', '.join(unknown)} (known: {', '.join(PHASES)})"
    return names or "no phase given"


def database_url_error(url: str) -> str | None:
    """Why --database-url cannot be used, or None."""
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        return f"--database-url must be postgres://... or sqlite:///PATH (got {url!r})"
    try:
        import dj_database_url

        name = dj_database_url.parse(url).get("NAME")
    except Exception:  # noqa: BLE001 - dj-database-url's own errors on odd input
        return f"--database-url does not parse: {url!r}"
    if not name or name == ":memory:":
        return f"--database-url names no database: {url!r}"
    return None


def redis_url_error(url: str) -> str | None:
    """Why --redis-url cannot be used, or None ('none' and '' mean no Redis)."""
    if url in ("", "none"):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        return f"--redis-url does not parse: {url!r}"
    if parts.scheme not in REDIS_SCHEMES or (parts.scheme != "unix" and not parts.hostname):
        return f"--redis-url must be redis://HOST[:PORT][/DB] or 'none' (got {url!r})"
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        return f"--redis-url's database must be a number (got {db!r})"
    return None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("rounds", "seconds", "workers", "users", "order_clients", "products"):
        value = getattr(args, name)
        if value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    phases = parse_phases(args.phases)
    if isinstance(phases, str):
        parser.error(phases)
    args.phases = phases
    for error in (
        database_url_error(args.database_url) if args.database_url is not None else None,
        redis_url_error(args.redis_url),
    ):
        if error:
            parser.error(error)
    args.base_commit = resolve_commit(args.base)
    if args.base_commit is None:
        parser.error(f"--base {args.base!r} is no commit of this repository")
    return args


# --- The order of the rounds, the summary -------------------------------------------------------


def alternation(rounds: int) -> list[tuple[str, int]]:
    """(side, round) in the order they run: base, change, change, base, base, change, ...

    Round r's base and change are always adjacent, and each side goes first as often as the
    other (ABBA), so a drift of the machine's speed moves both alike."""
    order = []
    for round_ in range(rounds):
        sides = SIDES if round_ % 2 == 0 else SIDES[::-1]
        order += [(side, round_) for side in sides]
    return order


@dataclass
class Spread:
    """The median of some rounds' figure, and their lowest and highest."""

    median: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> "Spread":
        known = [value for value in values if value is not None]
        if not known:
            return cls(None, None, None)
        return cls(statistics.median(known), min(known), max(known))

    def as_dict(self) -> dict[str, float | None]:
        return {"median": self.median, "min": self.low, "max": self.high}


def ratio(change: float | None, base: float | None) -> float | None:
    return change / base if change is not None and base else None


def summarize(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One phase's rounds ({side, round, rps, server_cpu_ms, p95_ms, requests, failures}) ->
    per side each figure's median and range, requests and failures; change/base of the medians,
    and the range of the ratios of each round's adjacent pair."""
    summary: dict[str, Any] = {}
    for side in SIDES:
        mine = [r for r in rounds if r["side"] == side]
        summary[side] = {
            **{key: Spread.of(r.get(key) for r in mine).as_dict() for key, _ in METRICS},
            "rounds": len(mine),
            "requests": sum(r.get("requests") or 0 for r in mine),
            "failures": sum(r.get("failures") or 0 for r in mine),
        }
    by_pair = {(r["side"], r["round"]): r for r in rounds}
    pairs = sorted({r["round"] for r in rounds})
    summary["ratio"] = {}
    summary["pair_ratios"] = {}
    for key, _ in METRICS:
        summary["ratio"][key] = ratio(
            summary["change"][key]["median"], summary["base"][key]["median"]
        )
        paired = [
            ratio(by_pair[("change", n)].get(key), by_pair[("base", n)].get(key))
            for n in pairs
            if ("change", n) in by_pair and ("base", n) in by_pair
        ]
        summary["pair_ratios"][key] = Spread.of(paired).as_dict()
    return summary


def _figure(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if key in CPU_METRICS else f"{value:.0f}"


def _range(spread: Mapping[str, float | None], key: str) -> str:
    if spread["min"] is None:
        return ""
    return f"({_figure(spread['min'], key)}-{_figure(spread['max'], key)})"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} x"


def _pair_range(spread: Mapping[str, float | None]) -> str:
    if spread["min"] is None:
        return ""
    return f"(pairs {spread['min']:.2f}-{spread['max']:.2f})"


def format_phase(title: str, summary: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """One phase's table: each side's medians with the range of its rounds, then change/base
    with the range of the adjacent pairs' ratios."""
    widths = [16] + [24] * len(METRICS) + [8]
    header = ["", *(label for _, label in METRICS), "errors"]
    lines = [title, _row(header, widths)]
    lines.append("-" * len(lines[-1]))
    for side in SIDES:
        figures = summary[side]
        cells = [f"{side} {labels.get(side, '')}".strip()[:16]]
        for key, _ in METRICS:
            cells.append(f"{_figure(figures[key]['median'], key)} {_range(figures[key], key)}")
        cells.append(f"{figures['failures']}/{figures['requests']}")
        lines.append(_row(cells, widths))
    cells = ["change/base"]
    for key, _ in METRICS:
        cells.append(f"{_times(summary['ratio'][key])} {_pair_range(summary['pair_ratios'][key])}")
    cells.append("")
    lines.append(_row(cells, widths))
    return "\n".join(lines)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def format_overview(phases: Sequence[Mapping[str, Any]]) -> str:
    """Every phase on one line: CPU ms/req and req/s medians of both sides, change/base."""
    header = (
        f"{'phase':<16}  {'CPU ms/req base':>15}  {'change':>7}  {'ratio':>7}  "
        f"{'req/s base':>10}  {'change':>7}  {'ratio':>7}"
    )
    lines = [header, "-" * len(header)]
    for phase in phases:
        s = phase["summary"]
        cpu, rps = "server_cpu_ms", "rps"
        lines.append(
            f"{phase['name']:<16}  {_figure(s['base'][cpu]['median'], cpu):>15}  "
            f"{_figure(s['change'][cpu]['median'], cpu):>7}  {_times(s['ratio'][cpu]):>7}  "
            f"{_figure(s['base'][rps]['median'], rps):>10}  "
            f"{_figure(s['change'][rps]['median'], rps):>7}  {_times(s['ratio'][rps]):>7}"
        )
    return "\n".join(lines)


# --- The run ------------------------------------------------------------------------------------


def round_record(side: str, round_: int, phase: Phase) -> dict[str, Any]:
    """The phase's figures, and PostgreSQL's CPU per request (every PostgreSQL process: the
    other side's server sits idle meanwhile)."""
    db_cpu_ms = phase.db_cpu / phase.rps * 1000 if phase.db_cpu is not None and phase.rps else None
    return {"side": side, "round": round_, **phase.as_dict(), "db_cpu_ms": db_cpu_ms}


def change_description() -> dict[str, Any]:
    """This tree: HEAD, and the files that differ from it (uncommitted, untracked)."""
    head = git("rev-parse", "HEAD").stdout.strip()
    status = git("status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    return {"head": head, "uncommitted": [line[3:] for line in status if line.strip()]}


class ABRun:
    """Set up both trees and the database, measure each phase interleaved, report, clean up."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.started = datetime.now(UTC)
        self.stamp = self.started.strftime("%Y%m%d_%H%M%S")
        self.json_out = args.json_out or ROOT / "bench_results" / f"ab_{self.stamp}.json"
        self.workdir = Path(tempfile.mkdtemp(prefix="shop_ab_"))
        self.base_tree = self.workdir / "base"
        self.worktree_added = False
        self.servers: dict[str, Any] = {}
        self.db: Database | None = None
        self.cache: tuple[str, list[str]] | None = None
        self.results: list[dict[str, Any]] = []
        self.invariant: dict[str, Any] | None = None

    def run(self) -> int:
        try:
            self.setup()
            for name in self.args.phases:
                self.measure_phase(name)
            self.invariant = stock_audit(self.opts.env)
            log(f"== stock audit after the load: invariant {self.invariant_state()}")
            return self.report()
        finally:
            self.clean_up()

    def invariant_state(self) -> str:
        return "holds" if self.invariant and self.invariant["ok"] else "BROKEN"

    # --- setup ---

    def add_worktree(self) -> None:
        sha = self.args.base_commit
        added = git("worktree", "add", "--detach", "--quiet", str(self.base_tree), sha)
        if added.returncode != 0:
            raise BenchError(f"git worktree add {sha[:12]} failed: {tail(added)}")
        self.worktree_added = True

    def side_envs(self) -> dict[str, dict[str, str]]:
        """The one environment of both services, with a cache prefix of each side's own (a
        cached page of one commit is never served by the other)."""
        args = self.args
        env, _ = service_env(args, self.stamp)
        env["WEB_CONCURRENCY"] = str(args.workers)
        env["GUNICORN_ACCESS_LOG"] = "off"
        self.db = prepare_database(args.database_url, self.workdir, name=AB_DB_NAME)
        env.update(self.db.env())
        self.env = env
        if not env.get("REDIS_URL"):
            return {side: dict(env) for side in SIDES}
        prefixes = {side: f"shop_ab_{self.stamp}_{side}" for side in SIDES}
        self.cache = (env["REDIS_URL"], list(prefixes.values()))
        return {side: {**env, "CACHE_KEY_PREFIX": prefixes[side]} for side in SIDES}

    def setup(self) -> None:
        args = self.args
        self.add_worktree()
        self.trees = {"base": self.base_tree, "change": ROOT}
        self.envs = self.side_envs()
        self.opts = Options(
            duration=args.seconds,
            users=args.users,
            order_clients=args.order_clients,
            products=args.products,
            quick=False,
            workdir=self.workdir,
            env=self.env,
        )
        self.change = change_description()
        self.labels = {"base": args.base_commit[:7], "change": self.change["head"][:7]}
        if self.change["uncommitted"]:
            self.labels["change"] += "+"
        self.gunicorn = {
            side: gunicorn_settings(self.envs[side], self.trees[side]) for side in SIDES
        }
        dirty = len(self.change["uncommitted"])
        log(
            f"A/B: base {self.labels['base']} ({args.base}) vs change: this tree at "
            f"{self.labels['change']}" + (f" ({dirty} files differ from HEAD)" if dirty else "")
        )
        log(
            f"{args.rounds} rounds of {args.seconds} s a side and phase; gunicorn {args.workers} "
            f"sync workers each; database {self.db.describe()}; cache "
            f"{'redis' if self.env.get('REDIS_URL') else 'locmem'}"
        )
        for side in SIDES:
            if self.gunicorn[side].get("accesslog") is not None:
                log(
                    f"note: the {side} tree's gunicorn.conf.py keeps the access log "
                    f"({self.gunicorn[side]['accesslog']!r}): GUNICORN_ACCESS_LOG=off is newer"
                )
        log("migrating and seeding (this tree) ...")
        migrate_and_seed(self.opts)
        token = self.opts.fixtures["customer_token"]
        first = self.opts.fixtures["product_ids"][0]
        for side in SIDES:
            server = start_gunicorn(
                SHOP_APP, self.envs[side], self.workdir, side, "/health", root=self.trees[side]
            )
            self.servers[side] = server
            warm_up(
                server.url,
                ["/products/", f"/products/{first}", "/health"],
                {"Authorization": f"Token {token}"},
            )

    # --- measuring ---

    def measure_phase(self, name: str) -> None:
        args, opts = self.args, self.opts
        bench_name, title, user_class, users_key, _ = BENCH_PHASES[PHASES[name]]
        users = getattr(opts, users_key)
        log(f"== {name}: {title}, {users} users, {args.rounds} x {args.seconds} s a side")
        rounds = []
        for side, round_ in alternation(args.rounds):
            server = self.servers[side]
            phase = Phase(name=bench_name, title=title, kind="service", users=users)
            run_locust(
                opts,
                phase=phase,
                user_class=user_class,
                host=server.url,
                server_pid=server.pid,
                label=f"{name}_{round_ + 1}_{side}",
            )
            rounds.append(round_record(side, round_, phase))
            cpu = "-" if phase.server_cpu_ms is None else f"{phase.server_cpu_ms:.2f}"
            log(
                f"   round {round_ + 1} {side:<6} {phase.rps or 0:7.1f} req/s  {cpu} ms CPU/req  "
                f"p95 {phase.p95_ms} ms  {phase.failures} errors"
            )
        summary = summarize(rounds)
        result = {
            "name": name,
            "bench_phase": bench_name,
            "title": title,
            "users": users,
            "user_class": user_class,
            "rounds": rounds,
            "summary": summary,
        }
        result["table"] = format_phase(f"{name}: {title}, {users} users", summary, self.labels)
        self.results.append(result)
        log(f"\n{result['table']}\n")

    # --- report, clean-up ---

    def report(self) -> int:
        args = self.args
        overview = format_overview(self.results)
        report = {
            "format": "shop-ab/1",
            "started_at": self.started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "base": {"rev": args.base, "commit": args.base_commit},
            "change": {"tree": str(ROOT), **self.change},
            "order": "per phase: base, change, change, base, ... (alternation)",
            "config": {
                "rounds": args.rounds,
                "seconds": args.seconds,
                "workers": args.workers,
                "users": args.users,
                "order_clients": args.order_clients,
                "products": args.products,
                "database": self.db.describe() if self.db else None,
                "cache": "redis" if self.env.get("REDIS_URL") else "locmem",
                "gunicorn": self.gunicorn,
                "generator": "locust --headless, FastHttpUser, one process (benchmarks/users.py)",
                "cpu": "server CPU per request: the gunicorn process tree's CPU / requests",
            },
            "machine": describe_machine(),
            "phases": self.results,
            "invariant": self.invariant,
            "overview": overview,
        }
        write_json(report, self.json_out)
        log(overview)
        log("\nmedians of the rounds; ratio: change / base (CPU below 1 and req/s above 1: better)")
        log(f"JSON: {self.json_out}")
        if self.invariant is not None and not self.invariant["ok"]:
            print("stock invariant broken after the load", file=sys.stderr)
            return 2
        return 0

    def clean_up(self) -> None:
        for server in self.servers.values():
            with contextlib.suppress(Exception):
                stop_gunicorn(server)
        if self.worktree_added:
            removed = git("worktree", "remove", "--force", str(self.base_tree))
            if removed.returncode != 0:
                shutil.rmtree(self.base_tree, ignore_errors=True)
                git("worktree", "prune")
        if self.db is not None and not self.args.keep_db:
            drop_database(self.db)
        if self.cache:
            redis_url, prefixes = self.cache
            for prefix in prefixes:
                drop_cache_keys(redis_url, prefix)
        if self.args.keep_work:
            log(f"work files: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` cleans up as Ctrl-C does
    try:
        return ABRun(args).run()
    except BenchError as exc:
        print(f"A/B could not run: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("A/B interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
