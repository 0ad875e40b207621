"""One benchmark run: set up, measure the HTTP ceiling, the service, the database ceiling and the
floor, report.

Phases, in the order they run:
  1. bare WSGI ceiling   benchmarks.bare_wsgi under gunicorn.conf.py, the same worker settings
  2. harness overhead    optional: `manage.py loadtest custom` vs plain locust on the bare app
  3. the service         the standard mix with auth first, then GET /products/,
                         GET /products/{id}, POST /orders/ hot and spread
  4. pgbench ceiling     the order transaction's SQL on one hot row (PostgreSQL only)
  5. Python floor        benchmarks.floor_wsgi: the order through psycopg, same gunicorn
  then the stock audit; the report lists the ceilings first.

The mix runs first, on the freshly seeded database, as `loadtest standard` does. Its /summary
audits every order line ever written: after the other phases' orders (60,000 to 90,000 lines
with 20 s phases here) each call cost PostgreSQL 50 to 80 ms, and PostgreSQL took half again as
much CPU in the mix. Nothing else reads the lines the phases leave.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import profile
from benchmarks.base import DEFAULT_DURATION, QUICK_DURATION, ROOT, BenchError, Options, log
from benchmarks.database import (
    Database,
    drop_database,
    migrate_and_seed,
    prepare_database,
    stock_audit,
)
from benchmarks.locust_driver import run_locust
from benchmarks.overhead import harness_overhead
from benchmarks.pgbench_driver import TITLE as PGBENCH_TITLE
from benchmarks.pgbench_driver import run_pgbench
from benchmarks.report import (
    DB_CEILING,
    FLOOR,
    HTTP_CEILING,
    Phase,
    apply_ratios,
    build_report,
    evaluate_goals,
    format_goals,
    format_order_cpu,
    format_table,
    order_cpu_ratios,
    summary_line,
    write_json,
)
from benchmarks.service import (
    BARE_APP,
    FLOOR_APP,
    SHOP_APP,
    discover_products,
    drop_cache_keys,
    gunicorn_settings,
    listening_pid,
    redis_reachable,
    start_gunicorn,
    stop_gunicorn,
    warm_up,
)
from loadtesting.server import is_loopback, scrubbed_env

# Service phases, in the report's order: name, title, user class, users option, ceiling.
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
# The mix first: see the module's docstring.
FIRST_SERVICE_PHASE = "standard_mix"
FLOOR_TITLE = "Python floor: psycopg order"
FLOOR_USER = "SpreadOrderUser"  # the floor answers POST /orders/ as the shop does


def report_position(phase: Phase) -> int:
    """The ceilings first (bare WSGI, pgbench, the floor), then the service phases as listed."""
    order = [HTTP_CEILING, DB_CEILING, FLOOR, *(name for name, *_rest in SERVICE_PHASES)]
    return order.index(phase.name) if phase.name in order else len(order)


def service_env(args: argparse.Namespace, stamp: str) -> tuple[dict[str, str], tuple | None]:
    """The service's environment (this one's, without its database and Redis settings and the
    load tools'), with the Redis cache when it answers; and (url, prefix) of a cache prefix of the
    run's own, to remove at the end."""
    env = scrubbed_env(keep=os.environ.keys(), DATABASE_URL=None, SQLITE_PATH=None, REDIS_URL=None)
    env.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    redis_url = None if args.redis_url in ("", "none") else args.redis_url
    if redis_url and not redis_reachable(redis_url):
        log(f"Redis at {redis_url} does not answer: the service uses the local-memory cache")
        redis_url = None
    if not redis_url:
        return env, None
    env["REDIS_URL"] = redis_url
    if "CACHE_KEY_PREFIX" in env:
        return env, None
    # A prefix of its own: no run reads another's cache, and it is removed at the end.
    env["CACHE_KEY_PREFIX"] = f"shop_bench_{stamp}"
    return env, (redis_url, env["CACHE_KEY_PREFIX"])


def make_options(args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> Options:
    quick = args.quick
    return Options(
        duration=args.duration or (QUICK_DURATION if quick else DEFAULT_DURATION),
        users=args.users or (10 if quick else 50),
        order_clients=min(args.order_clients, 10) if quick else args.order_clients,
        products=args.products or (100 if quick else 500),
        quick=quick,
        workdir=workdir,
        env=env,
    )


def describe_config(args: argparse.Namespace, opts: Options, db: Database | None) -> dict:
    env = opts.env
    return {
        "duration_s": opts.duration,
        "users": opts.users,
        "order_clients": opts.order_clients,
        "products": opts.products,
        "quick": opts.quick,
        "host": args.host,
        "database": db.describe() if db else "the deployment's (not seeded)",
        "cache": "redis" if env.get("REDIS_URL") else "locmem",
        "product_cache_seconds": env.get("PRODUCT_CACHE_SECONDS"),
        "gunicorn": gunicorn_settings(env),
        "generator": "locust --headless, FastHttpUser, one process",
        "mix_think_time_s": env.get("BENCH_MIX_WAIT", "0.025,0.075"),
        "profiled": args.profile,
    }


def describe_machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


class Run:
    """One benchmark run: set up, measure the ceilings, measure the service, report."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.started = datetime.now(UTC)
        self.stamp = self.started.strftime("%Y%m%d_%H%M%S")
        self.json_out = args.json_out or ROOT / "bench_results" / f"bench_{self.stamp}.json"
        self.workdir = Path(tempfile.mkdtemp(prefix="shop_bench_"))
        self.servers: list = []
        self.db: Database | None = None
        self.phases: list[Phase] = []
        self.harness: dict[str, Any] = {}
        self.invariant: dict[str, Any] | None = None
        self.own_cache: tuple[str, str] | None = None

    def run(self) -> int:
        args = self.args
        try:
            if args.host is not None and not args.allow_remote and not is_loopback(args.host):
                raise BenchError(f"{args.host} is not a loopback address; add --allow-remote")
            self.setup()
            self.measure_http_ceiling()
            self.measure_service()
            self.measure_db_ceiling()
            self.measure_floor()
            self.audit()
            self.stop_servers()
            self.phases.sort(key=report_position)
            return self.report()
        finally:
            self.clean_up()

    def stop_servers(self) -> None:
        for server in self.servers:
            with contextlib.suppress(Exception):
                stop_gunicorn(server)

    def clean_up(self) -> None:
        self.stop_servers()
        if self.db is not None and not self.args.keep_db:
            drop_database(self.db)
        if self.own_cache:
            drop_cache_keys(*self.own_cache)
        if self.args.keep_work:
            log(f"work files: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def setup(self) -> None:
        args = self.args
        env, self.own_cache = service_env(args, self.stamp)
        if args.host is None or args.database_url is not None:
            self.db = prepare_database(args.database_url, self.workdir)
            env.update(self.db.env())
        self.opts = make_options(args, self.workdir, env)
        self.profiler = profile.Profiler(args.profile, self.json_out, self.opts.duration)
        self.config = describe_config(args, self.opts, self.db)
        self.machine = describe_machine()
        gconf = self.config["gunicorn"]
        log(
            f"benchmark: {self.opts.duration} s a phase, {self.opts.users} users, "
            f"{self.opts.order_clients} order clients; gunicorn {gconf['workers']} x "
            f"{gconf['worker_class']} (threads {gconf['threads']}); database "
            f"{self.config['database']}; cache {self.config['cache']}"
        )
        if self.db is not None:
            log("migrating and seeding ...")
            migrate_and_seed(self.opts)

    def serve(self, app: str, name: str, ready_path: str):
        server = start_gunicorn(app, self.opts.env, self.workdir, name, ready_path)
        self.servers.append(server)
        return server

    def measure(self, phase: Phase, user_class: str, url: str, pid: int | None) -> Phase:
        log(f"== {phase.title}: {phase.users} users, {self.opts.duration} s")
        with self.profiler.phase(phase.name, pid):
            run_locust(self.opts, phase=phase, user_class=user_class, host=url, server_pid=pid)
        log(f"   {summary_line(phase)}")
        return phase

    def measure_http_ceiling(self) -> None:
        opts = self.opts
        bare = self.serve(BARE_APP, "bare", "/")
        warm_up(bare.url, ["/"], {})
        phase = Phase(
            name=HTTP_CEILING, title="bare WSGI (HTTP ceiling)", kind="ceiling", users=opts.users
        )
        self.phases.append(phase)
        log(f"== {phase.title}: {opts.users} users, {opts.duration} s")
        run_locust(opts, phase=phase, user_class="BareUser", host=bare.url, server_pid=bare.pid)
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
        stop_gunicorn(bare)

    def measure_db_ceiling(self) -> None:
        log(f"== pgbench: order transaction, hot row, {self.opts.order_clients} clients")
        if self.db is None:
            phase = Phase(name=DB_CEILING, title=PGBENCH_TITLE, kind="ceiling")
            phase.skipped = "no --database-url for the deployment"
        else:
            phase = run_pgbench(self.opts, self.db)
        self.phases.append(phase)
        log(f"   {'skipped: ' + phase.skipped if phase.skipped else summary_line(phase)}")

    def measure_floor(self) -> None:
        """The order's SQL through psycopg under the same gunicorn: the shop's order CPU floor."""
        phase = Phase(name=FLOOR, title=FLOOR_TITLE, kind="ceiling", users=self.opts.order_clients)
        self.phases.append(phase)
        if self.db is None or self.db.engine != "postgresql":
            phase.skipped = "needs PostgreSQL (the floor speaks psycopg)"
            log(f"== {phase.title}: skipped: {phase.skipped}")
            return
        floor = self.serve(FLOOR_APP, "floor", "/health")
        warm_up(floor.url, ["/health"], {})
        self.measure(phase, FLOOR_USER, floor.url, floor.pid)
        stop_gunicorn(floor)

    def service_target(self) -> tuple[str, int | None]:
        """The service's URL and server pid: --host's, or the shop under our own gunicorn."""
        opts, args = self.opts, self.args
        if not args.host:
            service = self.serve(SHOP_APP, "service", "/health")
            return service.url, service.pid
        url = args.host.rstrip("/")
        if not opts.fixtures:
            opts.fixtures = discover_products(url)
            opts.fixtures_path = self.workdir / "fixtures.json"
            opts.fixtures_path.write_text(json.dumps(opts.fixtures))
        return url, listening_pid(url)

    def measure_service(self) -> None:
        opts = self.opts
        url, pid = self.service_target()
        token = opts.fixtures.get("customer_token")
        ids = opts.fixtures.get("product_ids") or [1]
        auth = {"Authorization": f"Token {token}"} if token else {}
        warm_up(url, ["/products/", f"/products/{ids[0]}", "/health"], auth)
        in_turn = sorted(SERVICE_PHASES, key=lambda phase: phase[0] != FIRST_SERVICE_PHASE)
        for name, title, user_class, users_key, ceiling in in_turn:
            if name not in self.args.only:
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
            else:
                self.measure(phase, user_class, url, pid)

    def audit(self) -> None:
        if self.db is not None:
            self.invariant = stock_audit(self.opts.env)
            state = "holds" if self.invariant["ok"] else "BROKEN"
            log(f"== stock audit after the load: invariant {state}")

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
        if self.profiler.summaries:
            report["profiles"] = self.profiler.summaries
        write_json(report, self.json_out)
        log(f"\n{format_table(self.phases)}\n")
        log("ms: latency; CPU: cores (1.00 = one core); ms/req: server CPU per request;")
        log("ratio: req/s as a share of the ceiling named in 'of'\n")
        log(format_order_cpu(order_cpu_ratios(self.phases)) + "\n")
        log(format_goals(goals))
        log(f"\nJSON: {self.json_out}")
        if invariant_ok is False:
            print("stock invariant broken after the load", file=sys.stderr)
            return 2
        return 0
