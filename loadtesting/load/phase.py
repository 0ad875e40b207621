"""The harness's side of a load: the plan from the options and the scenario's kind, the
server's resources sampled around it, and the load generator's own CPU.

Imported by the harness only when a load is about to run: this is how locust enters the process.
"""

import time

import psutil

from loadtesting import memory
from loadtesting.exit_codes import CannotRun
from loadtesting.kinds import MixKind
from loadtesting.load.live_samples import SOURCE, LiveSampler, interval_for
from loadtesting.load.plan import LoadPlan, LoadResult
from loadtesting.load.runner import run_load
from loadtesting.resources import ResourceSampler


def _plan(harness, part) -> LoadPlan:
    options, scenario, kind = harness.options, part.scenario, part.kind
    workers = options.workers if kind.allows_workers else 0
    return LoadPlan(
        scenario=scenario,
        kind=kind,
        host=part.target.url,
        fixtures=part.payload,
        report_base=part.base,
        progress=harness.out.write,
        progress_interval=2.0 if scenario.run_time <= 30 else 5.0,
        workers=workers,
        expect_workers=options.expect_workers if kind.allows_workers else 0,
        master_bind=options.master_bind,
        master_port=options.master_port,
        worker_command=options.worker_command,
        child_output=harness.children,
        **kind.plan_options(harness, part),
    )


def _generator(cpu_seconds: float, wall_seconds: float) -> dict:
    return {
        "process": "this harness (the Locust master with --workers)",
        "cpu_seconds": round(cpu_seconds, 2),
        "avg_cpu_pct": round(cpu_seconds / max(wall_seconds, 1e-9) * 100, 1),
    }


def load(harness, part) -> None:
    """Run the part's load; fills in part.result and part.resources. Raises KeyboardInterrupt
    or CannotRun when no load ran."""
    harness.out.heading("== load")
    plan = _plan(harness, part)
    sampler = ResourceSampler(
        part.target.server_pid,
        timeline_interval=memory.timeline_interval(part.scenario.run_time),
    )
    live, live_before = _live_sampler(part)
    if plan.ui_state is not None:
        plan.ui_state.live = live  # the web UI's Shop tab shows the hot stock
    me = psutil.Process()
    cpu_before, wall_before = sum(me.cpu_times()[:2]), time.monotonic()
    sampler.start()
    live.start()
    try:
        result = run_load(plan)
    finally:
        live.stop()
        resources = sampler.stop()
    result.live = {
        "source": SOURCE.format(interval=live.interval),
        "products": live_before["products"],
        "stock_before": live_before["stock"],
        "stock": live.stock,
        "server": live.server,
        "generator": live.generator,
    }
    if plan.ui_state is not None and (result.interrupted or not result.ran):
        plan.ui_state.close()  # Ctrl-C finishes interactive: no verdict to wait in the UI for
    result.generator = _generator(
        sum(me.cpu_times()[:2]) - cpu_before, time.monotonic() - wall_before
    )
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
        harness.out.write(f"Load stopped: {result.stop_reason}.", "WARNING")
    part.result, part.resources = result, resources


def _live_sampler(part) -> tuple[LiveSampler, dict]:
    """The page's samples while the load runs (see live_samples); the watched products and their
    stock are read from the database here, before the load, and the connection closed."""
    from django.db import connections

    from loadtesting import run_pages

    products = run_pages.watched_products(part.payload) if part.payload else {}
    now = time.time()
    before = {pk: [now, stock] for pk, stock in run_pages.stock_in_database(products).items()}
    connections.close_all()
    customers = part.payload.get("customers") or [{}]
    live = LiveSampler(
        base_url=part.target.url,
        token=customers[0].get("token"),
        products={sku: pk for pk, sku in products.items()},
        server_pid=part.target.server_pid,
        interval=interval_for(part.scenario.run_time if not part.payload.get("race") else 1),
    )
    return live, {"products": products, "stock": before}


def probe_load(harness, part, probe) -> LoadResult:
    """The recovery probe's short load: the mix, no reports of its own."""
    return run_load(
        LoadPlan(
            scenario=probe,
            kind=MixKind(),
            host=part.target.url,
            fixtures=part.payload,
            report_base=None,
            progress=harness.out.write,
            progress_interval=5.0,
        )
    )
