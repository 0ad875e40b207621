"""Locust as a library: the one harness module that drives locust (users.py defines the users).

One call of `run_load()` is one load phase: an Environment on `locust.events`, a local runner (or
a master with N worker processes), `stats_history` for the HTML charts, Locust's
StatsCSVFileWriter for the CSVs, a live progress line, and at the end `events.quitting`, Locust's
HTML report, and every recorded sample for the exact verdict. Ctrl-C (or SIGTERM) during the load
stops the load and returns what was measured; the caller still audits and reports.

The users are the shop's (users.py), or with `custom --locustfile` the user's own classes
(own_users.py), imported inside the load's `isolated_events()` so that the listeners the file adds
fire during this load and only during it.

The process must have been monkey-patched by gevent before Django loaded (manage.py does it for
`loadtest`); `require_gevent()` refuses to run otherwise instead of half-patching late.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import gevent
from gevent import monkey

from loadtesting.exit_codes import CannotRun
from loadtesting.processes import deferred_signals, spawn, stop_group


def require_gevent() -> None:
    if not monkey.is_module_patched("socket"):
        raise CannotRun(
            "The load must run in a process patched by gevent before Django loaded: "
            "use `python manage.py loadtest …`, not call_command()."
        )


require_gevent()

from locust import argument_parser, events  # noqa: E402 - after the gevent check above
from locust.env import Environment  # noqa: E402
from locust.event import EventHook  # noqa: E402
from locust.html import get_html_report  # noqa: E402
from locust.runners import STATE_STOPPED, MasterRunner  # noqa: E402
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history  # noqa: E402

from loadtesting import own_users  # noqa: E402
from loadtesting.distributed import FLUSH, MasterHooks, install_worker_hooks  # noqa: E402
from loadtesting.recorder import RECORDER  # noqa: E402
from loadtesting.scenarios import (  # noqa: E402
    INTERACTIVE,
    RACE,
    Locustfile,
    Scenario,
    format_timespan,
)
from loadtesting.server import free_port  # noqa: E402
from loadtesting.users import RACE_BARRIER, RaceUser, ShopUser, configure  # noqa: E402

logger = logging.getLogger("loadtest")

WORKERS_CONNECT_TIMEOUT_S = 60.0
FLUSH_TIMEOUT_S = 5.0
WORKER_EXIT_TIMEOUT_S = 10.0


@dataclass
class LoadPlan:
    scenario: Scenario
    host: str
    fixtures: dict
    report_base: Path | None  # <results>/<scenario>_<stamp>; None: no HTML/CSV (the probe)
    progress: Callable[[str], None]
    progress_interval: float = 5.0
    workers: int = 0
    expect_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    worker_command: Callable[[int], list[str]] | None = None
    child_output: Path | None = None
    web_port: int = 8089
    on_web_ui: Callable[[str], None] | None = None
    locustfile: Locustfile | None = None  # custom --locustfile: the user's own classes


@dataclass
class LoadResult:
    ran: bool = False
    interrupted: bool = False
    stop_reason: str = ""
    start: float = 0.0
    steady_start: float = 0.0
    end: float = 0.0
    samples: list = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)
    locust_totals: dict = field(default_factory=dict)
    user_exceptions: list = field(default_factory=list)
    workers: int = 0
    reports: dict = field(default_factory=dict)
    user_classes: list[str] = field(default_factory=list)
    generator: dict | None = None  # the load generator's own CPU, filled in by the harness


@contextmanager
def isolated_events() -> Iterator[None]:
    """The runners add listeners to the global `locust.events`; take them away afterwards, so that
    `all` and the stress probe can run several environments in one process."""
    hooks = [hook for hook in vars(events).values() if isinstance(hook, EventHook)]
    saved = [list(hook._handlers) for hook in hooks]
    try:
        yield
    finally:
        for hook, handlers in zip(hooks, saved, strict=True):
            hook._handlers[:] = handlers


class StopFlag:
    """Ctrl-C and SIGTERM during the load only set a flag; the wait loop then stops the load."""

    def __init__(self) -> None:
        self.reason = ""
        self._previous: dict = {}

    def __call__(self, signum, _frame) -> None:
        self.reason = "interrupted (Ctrl-C)" if signum == signal.SIGINT else "interrupted (SIGTERM)"

    def __enter__(self) -> "StopFlag":
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup & stay ignored
                self._previous[signum] = signal.signal(signum, self)
        return self

    def __exit__(self, *_exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _locust_parser():
    parser = argument_parser.get_empty_argument_parser(add_help=False, default_config_files=[])
    argument_parser.setup_parser_arguments(parser)
    return parser


def _ui_options(scenario: Scenario, host: str):
    return _locust_parser().parse_args(
        ["--users", str(scenario.users), "--spawn-rate", str(scenario.spawn_rate), "--host", host]
    )


def _locustfile_options(scenario: Scenario, host: str):
    """What `locust -f` would give a locustfile's listeners as `environment.parsed_options`,
    with the options the file adds itself (init_command_line_parser) at their defaults."""
    parser = _locust_parser()
    events.init_command_line_parser.fire(parser=parser)
    return parser.parse_args(
        [
            *("--users", str(scenario.users), "--spawn-rate", str(scenario.spawn_rate)),
            *("--run-time", f"{int(scenario.run_time)}s", "--host", host),
        ]
    )


def _progress_line(runner, result: LoadResult, total_s: float) -> str:
    stats = runner.stats.total
    elapsed = time.time() - result.start
    p50 = stats.get_current_response_time_percentile(0.5) or 0
    p95 = stats.get_current_response_time_percentile(0.95) or 0
    return (
        f"[{format_timespan(elapsed):>6}/{format_timespan(total_s)}] "
        f"users {runner.user_count:>4} | "
        f"{stats.current_rps:7.1f} req/s | p50 {p50:>5.0f} ms p95 {p95:>5.0f} ms | "
        f"failures {stats.num_failures}"
        + (f" | stock-outs {RECORDER.stock_outs}" if RECORDER.count_stock_outs else "")
    )


def _final_csv(writer: StatsCSVFileWriter, base: Path) -> dict:
    """One last full write of Locust's CSVs, then the names LOADTEST.md promises."""
    for handle, write in (
        (writer.requests_csv_filehandle, lambda: writer.requests_csv(writer.requests_csv_writer)),
        (writer.failures_csv_filehandle, lambda: writer.failures_csv(writer.failures_csv_writer)),
        (
            writer.exceptions_csv_filehandle,
            lambda: writer.exceptions_csv(writer.exceptions_csv_writer),
        ),
    ):
        handle.seek(0)
        handle.truncate()
        write()
    if writer.stats_history_csv_filehandle.tell() == 0:
        writer.stats_history_csv_writer.writerow(writer.stats_history_csv_columns)
    writer.close_files()
    names = {
        "csv": (Path(f"{base}_stats.csv"), base.with_name(base.name + ".csv")),
        "history_csv": (
            Path(f"{base}_stats_history.csv"),
            base.with_name(base.name + "_history.csv"),
        ),
        "failures_csv": (Path(f"{base}_failures.csv"), Path(f"{base}_failures.csv")),
        "exceptions_csv": (Path(f"{base}_exceptions.csv"), Path(f"{base}_exceptions.csv")),
    }
    reports = {}
    for key, (written, wanted) in names.items():
        if written != wanted:
            os.replace(written, wanted)
        reports[key] = str(wanted)
    return reports


class _Workers:
    """Local worker processes (`manage.py loadtest --worker-process`), each in its own group."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def start(self, command: list[str], count: int, output: Path | None) -> None:
        sink = open(output, "ab") if output else subprocess.DEVNULL  # noqa: SIM115
        try:
            for _ in range(count):
                with deferred_signals():
                    self.processes.append(
                        spawn(
                            command,
                            stdin=subprocess.DEVNULL,
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        )
                    )
        finally:
            if output:
                sink.close()

    def exited(self) -> list[int]:
        return [code for process in self.processes if (code := process.poll()) is not None]

    def stop(self) -> None:
        """They quit when the master quits; whoever has not after a while is stopped."""
        deadline = time.monotonic() + WORKER_EXIT_TIMEOUT_S
        with deferred_signals():
            for process in self.processes:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    stop_group(process, 5)
        self.processes = []


def _configure_users(plan: LoadPlan) -> list[type]:
    scenario = plan.scenario
    setup = {"fixtures": plan.fixtures, "think_time": list(scenario.think_time)}
    configure(setup)
    if plan.locustfile is not None:
        own = own_users.load(plan.locustfile)
        if own.ignored_shapes:
            plan.progress(
                f"Not used: {', '.join(own.ignored_shapes)} (a LoadTestShape); "
                "--users, --spawn-rate and --run-time set the load."
            )
        return own.classes
    if scenario.kind == RACE:
        RACE_BARRIER.reset(scenario.users)
        RaceUser.barrier_timeout = scenario.run_time
        return [RaceUser]
    return [ShopUser]


def run_load(plan: LoadPlan) -> LoadResult:
    scenario = plan.scenario
    result = LoadResult()
    RECORDER.reset(count_stock_outs=plan.locustfile is None)
    workers = _Workers()
    greenlets: list[gevent.Greenlet] = []
    csv_writer = None
    runner = None
    with isolated_events(), StopFlag() as stop:
        user_classes = _configure_users(plan)
        result.user_classes = [user_class.__name__ for user_class in user_classes]
        locustfile, parsed_options = f"manage.py loadtest {scenario.name}", None
        if plan.locustfile is not None:
            locustfile = str(plan.locustfile.path)
            parsed_options = _locustfile_options(scenario, plan.host)
        elif scenario.kind == INTERACTIVE:
            parsed_options = _ui_options(scenario, plan.host)
        env = Environment(
            user_classes=user_classes,
            events=events,
            host=plan.host,
            locustfile=locustfile,
            parsed_options=parsed_options,
        )
        try:
            if plan.workers or plan.expect_workers:
                port = plan.master_port or free_port(plan.master_bind)
                runner = env.create_master_runner(
                    master_bind_host=plan.master_bind, master_bind_port=port
                )
                hooks = _connect_workers(env, runner, port, plan, workers, stop)
                result.workers = len(runner.clients)
            else:
                runner, hooks = env.create_local_runner(), None
                events.request.add_listener(RECORDER.on_request)
            events.init.fire(environment=env, runner=runner, web_ui=None)

            def on_spawning_complete(user_count, **_kwargs):
                if not result.steady_start:
                    result.steady_start = time.time()

            def on_test_start(**_kwargs):
                if not result.ran:
                    result.ran = True
                    result.start = time.time()

            events.spawning_complete.add_listener(on_spawning_complete)
            events.test_start.add_listener(on_test_start)
            greenlets.append(gevent.spawn(stats_history, runner))
            if plan.report_base is not None:
                csv_writer = StatsCSVFileWriter(
                    env, PERCENTILES_TO_REPORT, str(plan.report_base), full_history=True
                )
                greenlets.append(gevent.spawn(csv_writer.stats_writer))

            if scenario.kind == INTERACTIVE:
                # Locust's web UI parses sys.argv as locust options on every page view.
                argv, sys.argv = sys.argv, sys.argv[:1]
                try:
                    _interactive(env, runner, plan, result, stop)
                finally:
                    sys.argv = argv
            else:
                greenlets.append(_headless(runner, plan, result, stop))

            if runner.state != STATE_STOPPED:
                runner.stop()
            result.end = time.time()
            if hooks is not None:
                _flush(runner, hooks)
        finally:
            for greenlet in greenlets:
                greenlet.kill()
            if runner is not None:
                # quitting: the master tells its workers to quit; the local runner has nobody.
                events.quitting.fire(environment=env, reverse=True)
                if not isinstance(runner, MasterRunner):
                    runner.quit()
            if env.web_ui is not None and getattr(env.web_ui, "server", None) is not None:
                env.web_ui.stop()
            workers.stop()

        result.end = result.end or time.time()
        if scenario.kind == RACE or not result.steady_start:
            # The race has no ramp-up; a ramp-up that never completed leaves every sample in.
            result.steady_start = result.start
        result.interrupted = bool(stop.reason)
        result.stop_reason = stop.reason or result.stop_reason
        result.samples = list(RECORDER.samples)
        result.ledger = dict(RECORDER.ledger)
        result.outcomes = dict(RECORDER.outcomes)
        result.locust_totals = {
            "requests": env.stats.total.num_requests,
            "failures": env.stats.total.num_failures,
        }
        result.user_exceptions = [
            {"count": row["count"], "message": row["msg"], "traceback": row["traceback"]}
            for row in runner.exceptions.values()
        ]
        if plan.report_base is not None and result.ran:
            result.reports = _write_locust_reports(env, csv_writer, plan.report_base)
        elif csv_writer is not None:
            csv_writer.close_files()
            for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"):
                Path(f"{plan.report_base}{suffix}").unlink(missing_ok=True)
    return result


def _write_locust_reports(env, csv_writer, base: Path) -> dict:
    reports = _final_csv(csv_writer, base)
    html = base.with_name(base.name + ".html")
    html.write_text(get_html_report(env, show_download_link=False), encoding="utf-8")
    return {"html": str(html), **reports}


def _headless(runner, plan: LoadPlan, result: LoadResult, stop: StopFlag) -> gevent.Greenlet:
    """Run until the run time (race: every user ordered, or the hard timeout) or a signal."""
    scenario = plan.scenario
    deadline = time.monotonic() + scenario.run_time
    next_progress = time.monotonic() + plan.progress_interval
    # A master's start() blocks for the whole ramp-up; the run time counts from here regardless.
    starter = gevent.spawn(runner.start, scenario.users, scenario.spawn_rate)
    while not stop.reason:
        now = time.monotonic()
        if now >= deadline:
            result.stop_reason = "race timeout" if scenario.kind == RACE else "run time reached"
            break
        if scenario.kind == RACE and sum(RECORDER.outcomes.values()) >= scenario.users:
            result.stop_reason = "every race user ordered once"
            break
        if result.ran and runner.state == STATE_STOPPED:
            result.stop_reason = "the runner stopped"
            break
        if now >= next_progress and result.ran:
            plan.progress(_progress_line(runner, result, scenario.run_time))
            next_progress = now + plan.progress_interval
        gevent.sleep(0.1)
    return starter


def _interactive(env, runner, plan: LoadPlan, result: LoadResult, stop: StopFlag) -> None:
    from flask import jsonify, request

    scenario = plan.scenario
    stopped = {"done": False}

    def on_test_stop(**_kwargs):
        if result.ran:
            stopped["done"] = True

    events.test_stop.add_listener(on_test_stop)
    web_ui = env.create_web_ui(host="127.0.0.1", port=plan.web_port, delayed_start=True)

    @web_ui.app.before_request
    def guard():
        # The UI can start any number of users on any host; the harness's safety rules say no.
        if request.method != "POST" or not request.path.rstrip("/").endswith("/swarm"):
            return None
        try:
            users = int(request.form.get("user_count", "0"))
        except ValueError:
            users = 0
        if users > scenario.max_users:
            message = f"At most {scenario.max_users} users (raise the cap with --max-users)."
            return jsonify({"success": False, "message": message, "host": env.host})
        host = (request.form.get("host") or "").rstrip("/")
        if host and host != env.host:
            message = f"The target is fixed to {env.host} (start the harness with --host)."
            return jsonify({"success": False, "message": message, "host": env.host})
        return None

    web_ui.start()
    for _ in range(50):  # announce the URL once it answers
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", plan.web_port)) == 0:
                break
        gevent.sleep(0.1)
    url = f"http://127.0.0.1:{plan.web_port}"
    if plan.on_web_ui:
        plan.on_web_ui(url)
    deadline = time.monotonic() + scenario.run_time
    next_progress = time.monotonic() + plan.progress_interval
    while not stop.reason and not stopped["done"]:
        now = time.monotonic()
        if now >= deadline:
            result.stop_reason = f"the {format_timespan(scenario.run_time)} cap was reached"
            break
        if runner.user_count > scenario.max_users:
            runner.start(scenario.max_users, max(scenario.spawn_rate, 1))
        if now >= next_progress and result.ran and runner.user_count:
            plan.progress(_progress_line(runner, result, scenario.run_time))
            next_progress = now + plan.progress_interval
        gevent.sleep(0.2)
    if stopped["done"]:
        result.stop_reason = "stopped in the web UI"


def _connect_workers(
    env, runner: MasterRunner, port: int, plan: LoadPlan, workers: _Workers, stop: StopFlag
) -> MasterHooks:
    """Start the local workers and wait until every expected worker has said hello."""
    hooks = MasterHooks(
        env, runner, {"fixtures": plan.fixtures, "think_time": list(plan.scenario.think_time)}
    )
    if plan.workers and plan.worker_command:
        workers.start(plan.worker_command(port), plan.workers, plan.child_output)
    expected = max(plan.expect_workers, plan.workers)
    if expected > plan.workers:
        plan.progress(
            f"Waiting for {expected - plan.workers} remote worker(s): "
            f"locust -f loadtesting/locustfile.py --worker --master-host <this host> "
            f"--master-port {port}"
        )
    deadline = time.monotonic() + WORKERS_CONNECT_TIMEOUT_S
    while len(hooks.ready) < expected:
        if stop.reason:
            raise KeyboardInterrupt
        if workers.exited():
            raise CannotRun(
                f"A Locust worker process exited with status {workers.exited()[0]} before the load "
                f"(its output is in the run's log)."
            )
        if time.monotonic() > deadline:
            raise CannotRun(
                f"Only {len(hooks.ready)} of {expected} Locust workers connected within "
                f"{WORKERS_CONNECT_TIMEOUT_S:.0f} s."
            )
        gevent.sleep(0.1)
    # Their setup messages are on the wire before any spawn message: the channel keeps order.
    return hooks


def _flush(runner: MasterRunner, hooks: MasterHooks) -> None:
    """Ask every worker for the samples it has not reported yet, and wait for them."""
    expected = {client.id for client in runner.clients.all} & hooks.ready
    hooks.flushed.clear()
    runner.send_message(FLUSH)
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while not expected <= hooks.flushed and time.monotonic() < deadline:
        gevent.sleep(0.05)


def run_worker(master_host: str, master_port: int, locustfile: Locustfile | None = None) -> None:
    """A local worker process of `--workers N`: Locust's WorkerRunner with the harness's users,
    or the same classes of the same locustfile as the master's."""
    if locustfile is not None:
        user_classes, name = own_users.load(locustfile).classes, str(locustfile.path)
    else:
        user_classes, name = [ShopUser], "manage.py loadtest"
    env = Environment(user_classes=user_classes, events=events, locustfile=name)
    runner = env.create_worker_runner(master_host, master_port)
    install_worker_hooks(env, runner, count_stock_outs=locustfile is None)
    events.init.fire(environment=env, runner=runner, web_ui=None)
    runner.greenlet.join()
