"""`python -m benchmarks`: the options, and the exit codes (0 done, 2 invariant broken, 3 the run
could not be made, 130 interrupted)."""

import argparse
import os
import sys
from pathlib import Path

from benchmarks.base import DEFAULT_DURATION, BenchError
from benchmarks.database import BENCH_DB_NAME
from benchmarks.run import SERVICE_PHASES, Run

PHASE_NAMES = [name for name, *_ in SERVICE_PHASES]


def build_parser() -> argparse.ArgumentParser:
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
        help="comma-separated service phases to run (default all): " + ", ".join(PHASE_NAMES),
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
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.harness is None:
        args.harness = not args.quick
    for name in ("duration", "users", "order_clients", "products"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    known = set(PHASE_NAMES)
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
