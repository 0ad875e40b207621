"""Locust as a library: one call of `run_load()` is one load phase.

An Environment (on fresh event hooks, or on `locust.events` for a user's own locustfile, whose
listeners are registered there when it is imported), a local runner or a master with N worker
processes, `stats_history` for Locust's charts, its CSV writer, a live progress line; at the end
`quitting`, Locust's reports (loadtesting.load.locust_reports) and every recorded sample for the
exact verdict. The scenario's kind (loadtesting.kinds) says which users run, with which Locust
options, and how the load is driven (headless here, the web UI in loadtesting.load.web_ui).
Ctrl-C (or SIGTERM) during the load stops it and returns what was measured.

The process must have been monkey-patched by gevent before Django loaded (manage.py does it for
`loadtest`); `require_gevent()` refuses to run otherwise instead of half-patching late.
"""

import signal
import time

import gevent
from gevent import monkey

from loadtesting.exit_codes import CannotRun


def require_gevent() -> None:
    if not monkey.is_module_patched("socket"):
        raise CannotRun(
            "The load must run in a process patched by gevent before Django loaded: "
            "use `python manage.py loadtest …`, not call_command()."
        )


require_gevent()

import locust  # noqa: E402 - after the gevent check above
from locust.env import Environment  # noqa: E402
from locust.event import Events  # noqa: E402
from locust.runners import MasterRunner  # noqa: E402
from locust.stats import stats_history  # noqa: E402

from loadtesting.load.locust_adapter import (  # noqa: E402
    STATE_STOPPED,
    user_exceptions,
    web_ui_started,
)
from loadtesting.load.locust_reports import LocustReports  # noqa: E402
from loadtesting.load.plan import LoadPlan, LoadResult  # noqa: E402
from loadtesting.load.recorder import RECORDER  # noqa: E402
from loadtesting.load.users import configure  # noqa: E402
from loadtesting.load.workers import Workers, connect_workers, flush  # noqa: E402
from loadtesting.scenarios import format_timespan  # noqa: E402
from loadtesting.server import free_port  # noqa: E402


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


def progress_line(runner, result: LoadResult, total_s: float) -> str:
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


def headless(runner, plan: LoadPlan, result: LoadResult, stop: StopFlag) -> gevent.Greenlet:
    """Run until the run time, the kind says it is done (race: every user ordered), or a
    signal. Returns the greenlet that starts the users (a master's start() blocks for the whole
    ramp-up; the run time counts from here regardless)."""
    scenario, kind = plan.scenario, plan.kind
    deadline = time.monotonic() + scenario.run_time
    next_progress = time.monotonic() + plan.progress_interval
    starter = gevent.spawn(runner.start, scenario.users, scenario.spawn_rate)
    while not stop.reason:
        now = time.monotonic()
        if now >= deadline:
            result.stop_reason = kind.timeout_reason
            break
        if done := kind.finished(scenario, RECORDER):
            result.stop_reason = done
            break
        if result.ran and runner.state == STATE_STOPPED:
            result.stop_reason = "the runner stopped"
            break
        if now >= next_progress and result.ran:
            plan.progress(progress_line(runner, result, scenario.run_time))
            next_progress = now + plan.progress_interval
        gevent.sleep(0.1)
    return starter


class _Load:
    """One load's Environment, runner and listeners, taken down again by `close()`."""

    def __init__(self, plan: LoadPlan, result: LoadResult) -> None:
        self.plan, self.result = plan, result
        kind = plan.kind
        user_classes = kind.user_classes(plan)
        result.user_classes = [user_class.__name__ for user_class in user_classes]
        self.events = locust.events if kind.global_events else Events()
        self.env = Environment(
            user_classes=user_classes,
            events=self.events,
            host=plan.host,
            locustfile=kind.locustfile_name(plan.scenario),
            parsed_options=kind.locust_options(plan, self.events),
        )
        self.workers = Workers()
        self.runner = self.hooks = self.reports = None
        self.greenlets: list[gevent.Greenlet] = []
        self.listeners = [
            (self.events.spawning_complete, self._on_spawning_complete),
            (self.events.test_start, self._on_test_start),
        ]

    def _on_spawning_complete(self, **_kwargs) -> None:
        if not self.result.steady_start:
            self.result.steady_start = time.time()

    def _on_test_start(self, **_kwargs) -> None:
        if not self.result.ran:
            self.result.ran = True
            self.result.start = time.time()

    def open(self, stop: StopFlag) -> None:
        plan, env = self.plan, self.env
        if plan.workers or plan.expect_workers:
            port = plan.master_port or free_port(plan.master_bind)
            self.runner = env.create_master_runner(
                master_bind_host=plan.master_bind, master_bind_port=port
            )
            self.hooks = connect_workers(env, self.runner, port, plan, self.workers, stop)
            self.result.workers = len(self.hooks.ready)
        else:
            self.runner = env.create_local_runner()
            self.listeners.append((self.events.request, RECORDER.on_request))
        for hook, listener in self.listeners:
            hook.add_listener(listener)
        self.events.init.fire(environment=env, runner=self.runner, web_ui=None)
        self.greenlets.append(gevent.spawn(stats_history, self.runner))
        if plan.report_base is not None:
            self.reports = LocustReports(env, plan.report_base)
            self.greenlets.append(self.reports.start())

    def run(self, stop: StopFlag) -> None:
        if starter := self.plan.kind.drive(self.env, self.runner, self.plan, self.result, stop):
            self.greenlets.append(starter)
        if self.runner.state != STATE_STOPPED:
            self.runner.stop()
        self.result.end = time.time()
        if self.hooks is not None:
            flush(self.runner, self.hooks)

    def close(self) -> None:
        for greenlet in self.greenlets:
            greenlet.kill()
        if self.runner is not None:
            # quitting: the master tells its workers to quit; the local runner has nobody.
            self.events.quitting.fire(environment=self.env, reverse=True)
            if not isinstance(self.runner, MasterRunner):
                self.runner.quit()
        keep = self.plan.ui_state is not None  # interactive: it stops after the verdict
        if self.env.web_ui is not None and web_ui_started(self.env.web_ui) and not keep:
            self.env.web_ui.stop()
        self.workers.stop()
        for hook, listener in self.listeners:
            hook.remove_listener(listener)


def run_load(plan: LoadPlan) -> LoadResult:
    result = LoadResult()
    RECORDER.reset(count_stock_outs=plan.kind.count_stock_outs)
    configure({"fixtures": plan.fixtures, "think_time": list(plan.scenario.think_time)})
    with StopFlag() as stop:
        load = _Load(plan, result)
        try:
            load.open(stop)
            load.run(stop)
        finally:
            load.close()
        _collect(load, result, stop)
    return result


def _collect(load: _Load, result: LoadResult, stop: StopFlag) -> None:
    result.end = result.end or time.time()
    if load.plan.kind.steady_from_start or not result.steady_start:
        # The race has no ramp-up; a ramp-up that never completed leaves every sample in.
        result.steady_start = result.start
    result.interrupted = bool(stop.reason)
    result.stop_reason = stop.reason or result.stop_reason
    result.samples = list(RECORDER.samples)
    result.ledger = dict(RECORDER.ledger)
    result.outcomes = dict(RECORDER.outcomes)
    result.locust_totals = {
        "requests": load.env.stats.total.num_requests,
        "failures": load.env.stats.total.num_failures,
    }
    result.user_exceptions = user_exceptions(load.runner) if load.runner else []
    if load.reports is not None:
        if result.ran:
            result.reports = load.reports.finish()
        else:
            load.reports.discard()
