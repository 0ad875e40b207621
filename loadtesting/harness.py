"""One `manage.py loadtest <scenario>` run, phase by phase: target → fixtures → load → audit →
report. `all` runs quick → standard → race → stress against one target and combines the verdicts.

The ORM is used only outside the load (fixtures before, audit after); locust is imported only when
a load is about to run (loadtesting.runner), so `prepare`, `clean` and option errors never load it.

`custom --locustfile PATH` runs the user's own Locust users instead of the shop's mix: no shop
fixtures, and the target may be any API. With --host it is not checked to share the database (no
migrate, no probe product), and the oversell audit is skipped: only a shop the harness started
itself is known to use this database.
"""

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
from django.core.management import call_command
from django.db import connections

from loadtesting import audit, fixtures, memory, reports
from loadtesting.exit_codes import CannotRun, Interrupted, worst
from loadtesting.scenarios import (
    ALL_PARTS,
    INTERACTIVE,
    MIX,
    RACE,
    Locustfile,
    Overrides,
    Scenario,
    format_timespan,
    probe_scenario,
    resolve,
)
from loadtesting.server import port_is_free
from loadtesting.target import (
    ResourceSampler,
    Server,
    database_line,
    describe_database,
    health,
    http_json,
    normalise_host,
    require_listening,
    require_reachable,
    server_pid_for,
    warm_up,
)

logger = logging.getLogger("loadtest")


@dataclass
class Options:
    scenario: str
    overrides: Overrides = field(default_factory=Overrides)
    host: str | None = None
    allow_remote: bool = False
    results_dir: Path = Path("load_test_results")
    workers: int = 0
    expect_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    seed: int = fixtures.DEFAULT_SEED
    compare: Path | None = None
    baseline: dict | None = None
    web_port: int = 8089
    server_workers: int = 4
    worker_command: object = None  # Callable[[int], list[str]]: how to start a local worker
    locustfile: Locustfile | None = None  # custom --locustfile: the user's own users


# With --host and --locustfile the target may be any API: this harness's database is not its.
DATABASE_NOT_USED = {
    "used": False,
    "note": "not used: with --locustfile the --host target may not be the shop, so no database "
    "is seeded or checked",
}
AUDIT_SKIPPED = (
    "The oversell audit was skipped: the target was given with --host and runs your own "
    "locustfile, so it may not be the shop or use this harness's database."
)


@dataclass
class Target:
    url: str
    started: bool
    database: dict
    server_pid: int | None
    server_workers: int | None

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "started_by_harness": self.started,
            "server": "gunicorn (--no-control-socket)" if self.started else "given with --host",
            "server_workers": self.server_workers,
        }


def iso(epoch: float | None) -> str | None:
    if not epoch:
        return None
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


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

    def check(self, check: dict) -> None:
        self.write(reports.verdict_line(check), "SUCCESS" if check["pass"] else "ERROR")


class RunLog:
    """The root logger writes to the current run's .log; server and worker output is copied in."""

    def __init__(self, children: Path) -> None:
        self.children = children
        self.children_offset = 0
        self.path: Path | None = None
        self.handler: logging.Handler | None = None
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("loadtest: %(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)
        root.setLevel(logging.INFO)

    def open(self, path: Path) -> None:
        self.close()
        self.path = path
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        logging.getLogger().addHandler(self.handler)

    def copy_children(self, title: str) -> None:
        """Append what the server (and workers) wrote since the last copy."""
        if self.path is None or not self.children.exists():
            return
        with open(self.children, "rb") as source:
            source.seek(self.children_offset)
            chunk = source.read()
            self.children_offset = source.tell()
        if not chunk:
            return
        if self.handler:
            self.handler.flush()
        with open(self.path, "ab") as sink:
            sink.write(f"---- {title} ----\n".encode())
            sink.write(chunk)
            sink.write(f"---- end of {title} ----\n".encode())

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
            self.handler = None


def unique_base(directory: Path, name: str) -> Path:
    base, number = directory / name, 1
    while any(base.with_name(base.name + suffix).exists() for suffix in (".json", ".log")):
        number += 1
        base = directory / f"{name}_{number}"
    return base


class Harness:
    def __init__(self, options: Options, console: Console) -> None:
        self.options = options
        self.out = console
        self.results_dir = options.results_dir
        self.children = self.results_dir / f".children-{os.getpid()}.log"
        self.server: Server | None = None
        self.log: RunLog | None = None

    # --- the whole command ----------------------------------------------------------------------

    def run(self) -> dict:
        """The verdict (one scenario) or the combined verdict (`all`). Raises CannotRun, or
        Interrupted when Ctrl-C came before any load ran."""
        options = self.options
        self.results_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        parts = ALL_PARTS if options.scenario == "all" else (options.scenario,)
        bases = {name: unique_base(self.results_dir, f"{name}_{stamp}") for name in parts}
        self.log = RunLog(self.children)
        self.log.open(bases[parts[0]].with_suffix(".log"))
        self.out.mirror = True
        verdicts: list[dict] = []
        try:
            try:
                target = self._target()
                for name in parts:
                    if name != parts[0]:
                        self.log.open(bases[name].with_suffix(".log"))
                    verdict = self._part(name, bases[name], target)
                    verdicts.append(verdict)
                    if verdict["interrupted"]:
                        break
            except KeyboardInterrupt:
                if not verdicts:
                    logger.info("interrupted before any load ran")
                    raise Interrupted() from None
                self.out.write("Interrupted: the remaining parts are skipped.", "WARNING")
            except CannotRun as exc:
                logger.info("the run could not be made: %s", exc)
                raise
        finally:
            if self.server is not None:
                self.server.stop()
            self.log.copy_children("server output")
            self.log.close()
            self.children.unlink(missing_ok=True)
        if options.scenario != "all":
            return verdicts[0]
        return self._combined(verdicts, self.results_dir / f"all_{stamp}.json")

    def _combined(self, verdicts: list[dict], path: Path) -> dict:
        code = worst(verdict["exit_code"] for verdict in verdicts)
        skipped = [name for name in ALL_PARTS if name not in [v["scenario"] for v in verdicts]]
        if skipped:
            code = worst([code, 1])
        combined = {
            "scenario": "all",
            "parts": verdicts,
            "skipped": skipped,
            "start": verdicts[0]["start"] if verdicts else None,
            "end": verdicts[-1]["end"] if verdicts else None,
            "pass": code == 0,
            "exit_code": code,
            "reports": {"json": str(path)},
        }
        reports.write_json(path, combined)
        self.out.write("")
        self.out.write("== all: combined verdict", "MIGRATE_HEADING")
        for verdict in verdicts:
            self.out.check(
                {
                    "pass": verdict["pass"],
                    "label": f"{verdict['scenario']}: exit {verdict['exit_code']}",
                }
            )
        for name in skipped:
            self.out.check({"pass": False, "label": f"{name}: skipped (interrupted)"})
        self.out.write(
            f"Verdict: {'PASS' if code == 0 else 'FAIL'} (exit {code})",
            "SUCCESS" if code == 0 else "ERROR",
        )
        self.out.write(f"Combined verdict: {path}")
        return combined

    # --- phase 1: target -------------------------------------------------------------------------

    def _target(self) -> Target:
        options = self.options
        self.out.write("== target", "MIGRATE_HEADING")
        if options.host is not None and options.locustfile is not None:
            return self._any_api_target()
        call_command("migrate", interactive=False, verbosity=0)
        database = describe_database()
        if options.host is None:
            self.server = Server(output=self.children, workers=options.server_workers)
            try:
                self.server.start()
            except CannotRun:
                self.log.copy_children("server output")
                raise
            logger.info(
                "started gunicorn, pid %s, port %s", self.server.root_pid(), self.server.port
            )
            target = Target(
                self.server.url, True, database, self.server.root_pid(), options.server_workers
            )
            how = f"gunicorn with {options.server_workers} workers, started by the harness"
        else:
            url = normalise_host(options.host, allow_remote=options.allow_remote)
            require_reachable(url)
            self._require_shared_database(url, database)
            target = Target(url, False, database, server_pid_for(url), None)
            how = "given with --host; it shares this database"
            logger.info("the server's own output is not captured for --host")
        warm_up(target.url, concurrency=options.server_workers)
        self.out.write(f"Target:   {target.url} ({how})")
        self.out.write(f"Database: {database_line(database)}")
        return target

    def _any_api_target(self) -> Target:
        """--host with --locustfile: any HTTP server will do; nothing shop-specific is asked of it
        (no /health, no shared database, no warm-up of the shop's endpoints)."""
        url = normalise_host(self.options.host, allow_remote=self.options.allow_remote)
        require_listening(url)
        logger.info("the server's own output is not captured for --host")
        self.out.write(f"Target:   {url} (given with --host; not checked to be the shop)")
        self.out.write(f"Database: {DATABASE_NOT_USED['note']}")
        return Target(url, False, DATABASE_NOT_USED, server_pid_for(url), None)

    def _require_shared_database(self, url: str, database: dict) -> None:
        probe = fixtures.probe_product()
        try:
            status, body = http_json(f"{url}/products/?sku={probe.sku}")
            visible = status == 200 and any(
                row.get("id") == probe.pk and row.get("sku") == probe.sku
                for row in body.get("products", ())
            )
        finally:
            fixtures.probe_remove(probe)
        if not visible:
            raise CannotRun(
                f"The server at {url} does not share this harness's database "
                f"({database_line(database)}): a product the harness just wrote is not visible "
                f"through its API."
            )

    # --- one scenario ----------------------------------------------------------------------------

    def _part(self, name: str, base: Path, target: Target) -> dict:
        options = self.options
        scenario = resolve(name, options.overrides, part_of_all=options.scenario == "all")
        self.out.write("")
        self.out.write(f"== {name}: {describe(scenario, options.locustfile)}", "MIGRATE_HEADING")
        if options.locustfile is not None:
            return self._own_users_part(scenario, base, target)

        # phase 2: fixtures
        payload = fixtures.seed(seed=options.seed, customers=scenario.users)
        race_product = None
        if scenario.kind == RACE:
            race_product = fixtures.race_product(stock=scenario.stock)
            payload["race"] = {"product_id": race_product.pk, "stock": scenario.stock}
        audit_before = audit.invariant()
        self.out.write(f"Fixtures: {fixtures.fixture_summary(payload)}")
        if race_product is not None:
            self.out.write(
                f"Race:     product {race_product.sku} (id {race_product.pk}) with stock "
                f"{scenario.stock}; {scenario.users} users wait at a barrier, "
                "then order 1 unit each"
            )
        if not audit_before["ok"]:
            self.out.write(
                "Warning: the stock invariant is already broken before the load.", "WARNING"
            )
        connections.close_all()  # no database connection is held across the load
        warm_up(
            target.url,
            concurrency=options.server_workers,
            token=payload["customers"][0]["token"],
            product_id=payload["hot_products"][0],
        )

        # phase 3: load
        result, resources = self._load(scenario, base, target, payload)

        # phase 4: audit (and for stress, recovery)
        audit_result = self._audit(audit_before, result, target)
        race = None
        if race_product is not None:
            race = audit.race(
                product_id=race_product.pk,
                stock=scenario.stock,
                users=scenario.users,
                outcomes=Counter(result.outcomes),
            )
        recovery = None
        if scenario.recovery_probe:
            recovery = self._recovery(scenario, target, payload, interrupted=result.interrupted)
        connections.close_all()

        # phase 5: report
        return self._report(scenario, base, target, result, resources, audit_result, race, recovery)

    def _own_users_part(self, scenario: Scenario, base: Path, target: Target) -> dict:
        """custom --locustfile: no shop fixtures; the audit only on a shop the harness started."""
        if self.options.overrides.think_time is not None:
            self.out.write(
                "--think-time does not apply: your user classes keep their own wait_time.",
                "WARNING",
            )
        audit_before = audit.invariant() if target.started else None
        connections.close_all()  # no database connection is held across the load
        result, resources = self._load(scenario, base, target, {})
        audit_result = {"skipped": AUDIT_SKIPPED}  # printed with the verdict lines
        if target.started:
            audit_result = self._audit(audit_before, result, target)
            connections.close_all()
        return self._report(scenario, base, target, result, resources, audit_result, None, None)

    def _audit(self, audit_before: dict | None, result, target: Target) -> dict:
        """After the load: the invariant in the database, the clients' ledger, /health."""
        self.out.write("== audit", "MIGRATE_HEADING")
        audit_result = {
            "before": audit_before,
            "after": audit.invariant(),
            "ledger": audit.ledger(Counter(result.ledger)),
            "health_after": _health_summary(health(target.url)),
        }
        audit_result["ok"] = audit_result["after"]["ok"] and audit_result["ledger"]["ok"]
        return audit_result

    def _load(self, scenario: Scenario, base: Path, target: Target, payload: dict):
        from loadtesting import runner  # the only way locust enters the process

        options = self.options
        self.out.write("== load", "MIGRATE_HEADING")
        if scenario.kind == INTERACTIVE and not port_is_free("127.0.0.1", options.web_port):
            raise CannotRun(f"Port {options.web_port} is busy; choose another with --web-port.")
        sampler = ResourceSampler(
            target.server_pid, timeline_interval=memory.timeline_interval(scenario.run_time)
        )
        plan = runner.LoadPlan(
            scenario=scenario,
            host=target.url,
            fixtures=payload,
            report_base=base,
            progress=self.out.write,
            progress_interval=2.0 if scenario.run_time <= 30 else 5.0,
            workers=options.workers if scenario.kind != RACE else 0,
            expect_workers=options.expect_workers if scenario.kind != RACE else 0,
            master_bind=options.master_bind,
            master_port=options.master_port,
            worker_command=options.worker_command,
            child_output=self.children,
            locustfile=options.locustfile,
            web_port=options.web_port,
            on_web_ui=lambda url: self.out.write(
                f"Locust web UI: {url} (host {target.url}; at most {scenario.max_users} users, "
                f"stops by itself after {format_timespan(scenario.run_time)}). "
                f"Stop the test in the UI or press Ctrl-C for the audit and the reports.",
                "SUCCESS",
            ),
        )
        me = psutil.Process()
        cpu_before, wall_before = sum(me.cpu_times()[:2]), time.monotonic()
        sampler.start()
        try:
            result = runner.run_load(plan)
        finally:
            resources = sampler.stop()
        cpu = sum(me.cpu_times()[:2]) - cpu_before
        result.generator = {
            "process": "this harness (the Locust master with --workers)",
            "cpu_seconds": round(cpu, 2),
            "avg_cpu_pct": round(cpu / max(time.monotonic() - wall_before, 1e-9) * 100, 1),
        }
        if not result.ran:
            if result.interrupted:
                raise KeyboardInterrupt
            raise CannotRun("No load ran: the test was never started before the cap.")
        if resources is not None:
            resources.update(
                sampler.memory_report(
                    start=result.start, steady_start=result.steady_start, end=result.end
                )
            )
        if result.interrupted:
            self.out.write(f"Load stopped: {result.stop_reason}.", "WARNING")
        return result, resources

    def _recovery(self, stress: Scenario, target: Target, payload: dict, *, interrupted: bool):
        from loadtesting import runner

        health_now = _health_summary(health(target.url))
        probe = probe_scenario(stress, self.options.overrides)
        recovery = {"users": probe.users, "run_time_s": probe.run_time, "health": health_now}
        if interrupted:
            recovery["skipped"] = "the stress test was interrupted"
            return recovery
        self.out.write(
            f"== recovery probe: {probe.users} users for {format_timespan(probe.run_time)}, "
            f"quick thresholds",
            "MIGRATE_HEADING",
        )
        connections.close_all()
        result = runner.run_load(
            runner.LoadPlan(
                scenario=probe,
                host=target.url,
                fixtures=payload,
                report_base=None,
                progress=self.out.write,
                progress_interval=5.0,
            )
        )
        rows, total = reports.figures(
            result.samples, steady_start=result.steady_start, end=result.end
        )
        checks = reports.threshold_checks(probe.thresholds, rows, total)
        recovery.update(
            {
                "endpoints": rows,
                "total": total,
                "checks": [check.as_dict() for check in checks],
                "interrupted": result.interrupted,
            }
        )
        return recovery

    # --- phase 5: report -------------------------------------------------------------------------

    def _report(self, scenario, base, target, result, resources, audit_result, race, recovery):
        options = self.options
        rows, total = reports.figures(
            result.samples, steady_start=result.steady_start, end=result.end
        )
        checks = []
        if scenario.kind == RACE:
            checks += reports.race_checks(race)
        else:
            checks += reports.threshold_checks(scenario.thresholds, rows, total)
            checks += reports.memory_checks(scenario.thresholds, resources)
        if "skipped" not in audit_result:
            checks += reports.audit_checks(audit_result)
        if recovery is not None and "skipped" not in recovery:
            checks += reports.recovery_checks(recovery)
        if result.user_exceptions:
            count = sum(row["count"] for row in result.user_exceptions)
            checks.append(
                reports.Check(
                    "harness",
                    f"Simulated users raised {count} exception(s) "
                    "(see the log and the HTML report)",
                    False,
                    measured=count,
                    limit=0,
                )
            )
        comparison = None
        if options.baseline is not None:
            baseline = reports.baseline_for(options.baseline, scenario.name)
            if baseline is None:
                comparison = {
                    "baseline": str(options.compare),
                    "note": "no figures for this scenario",
                }
            else:
                comparison, regression = reports.compare(total, baseline, options.compare)
                checks += regression
        code = reports.exit_code(checks)
        files = {
            **result.reports,
            "log": str(base.with_suffix(".log")),
            "json": str(base.with_suffix(".json")),
        }
        verdict = {
            "scenario": scenario.name,
            "options": self._options_json(scenario, result),
            "target": target.as_dict(),
            "database": target.database,
            "start": iso(result.start),
            "end": iso(result.end),
            "duration_s": round(result.end - result.start, 3),
            "steady_state": {
                "start": iso(result.steady_start),
                "seconds": round(max(result.end - result.steady_start, 0), 3),
            },
            "stop_reason": result.stop_reason,
            "interrupted": result.interrupted,
            "endpoints": rows,
            "total": total,
            "thresholds": [check.as_dict() for check in checks if check.kind == "threshold"],
            "race": race,
            "audit": audit_result,
            "recovery": recovery,
            "compare": comparison,
            "server": resources,
            "load_generator": result.generator,
            "locust": {
                **result.locust_totals,
                "workers": result.workers,
                "user_exceptions": result.user_exceptions,
            },
            "checks": [check.as_dict() for check in checks],
            "reports": files,
            "pass": code == 0,
            "exit_code": code,
        }
        self._print(verdict)
        reports.write_json(base.with_suffix(".json"), verdict)
        self.log.copy_children("server output")
        return verdict

    def _print(self, verdict: dict) -> None:
        out = self.out
        out.write("== report", "MIGRATE_HEADING")
        stock_outs = self.options.locustfile is None
        for line in reports.summary_table(
            verdict["endpoints"], verdict["total"], stock_outs=stock_outs
        ):
            out.write(line)
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
        if verdict["compare"] and "figures" in verdict["compare"]:
            out.write(f"Compared with {verdict['compare']['baseline']}:")
            for key, row in verdict["compare"]["figures"].items():
                change = "" if row["change_pct"] is None else f" ({row['change_pct']:+.1f} %)"
                out.write(
                    f"  {key:<15} {row['now']!s:>12}  baseline {row['baseline']!s:>12}{change}"
                )
        out.write("")
        if "skipped" in verdict["audit"]:
            out.write(verdict["audit"]["skipped"], "WARNING")
        for check in verdict["checks"]:
            out.check(check)
        code = verdict["exit_code"]
        out.write(
            f"Verdict: {'PASS' if code == 0 else 'FAIL'} (exit {code})",
            "SUCCESS" if code == 0 else "ERROR",
        )
        out.write("Reports:")
        for key in ("html", "csv", "history_csv", "failures_csv", "log", "json"):
            if key in verdict["reports"]:
                out.write(f"  {verdict['reports'][key]}")

    def _options_json(self, scenario: Scenario, result) -> dict:
        options = self.options
        described = {
            "users": scenario.users,
            "spawn_rate": scenario.spawn_rate,
            "run_time_s": scenario.run_time,
            "think_time_s": list(scenario.think_time),
            "seed": options.seed,
            "workers": options.workers if scenario.kind != RACE else 0,
            "host": options.host,
            "results_dir": str(options.results_dir),
            "thresholds": scenario.thresholds.as_dict(),
            "compare": str(options.compare) if options.compare else None,
        }
        if options.locustfile is not None:
            described["locustfile"] = str(options.locustfile.path)
            described["user_classes"] = result.user_classes
            described["think_time_s"] = None  # the classes' own wait_time
        if scenario.kind == RACE:
            described["stock"] = scenario.stock
            described["hard_timeout_s"] = described.pop("run_time_s")
        if scenario.kind == INTERACTIVE:
            described["max_users"] = scenario.max_users
            described["cap_s"] = described.pop("run_time_s")
            described["web_port"] = options.web_port
        return described


def _health_summary(result: dict) -> dict:
    return {"ok": result["ok"], "status": result["status"], "reason": result["reason"]}


def describe(scenario: Scenario, locustfile: Locustfile | None = None) -> str:
    if locustfile is not None:
        return (
            f"{scenario.users} users, spawn {scenario.spawn_rate:g}/s, run time "
            f"{format_timespan(scenario.run_time)}; {locustfile.describe()}, "
            "with their own wait_time"
        )
    if scenario.kind == RACE:
        return (
            f"{scenario.users} users, stock {scenario.stock}, all at once "
            f"(hard timeout {format_timespan(scenario.run_time)})"
        )
    if scenario.kind == INTERACTIVE:
        return (
            f"Locust web UI, at most {scenario.max_users} users for "
            f"{format_timespan(scenario.run_time)}"
        )
    assert scenario.kind == MIX
    low, high = scenario.think_time
    return (
        f"{scenario.users} users, spawn {scenario.spawn_rate:g}/s, run time "
        f"{format_timespan(scenario.run_time)}, think time {low:g}-{high:g} s"
    )


def prepare(*, seed: int, customers: int, credentials: Path) -> dict:
    call_command("migrate", interactive=False, verbosity=0)
    payload = fixtures.seed(seed=seed, customers=customers)
    fixtures.write_credentials(credentials, payload)
    return payload


def clean() -> dict:
    return fixtures.clean()
