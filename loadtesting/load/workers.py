"""`--workers N`: local Locust worker processes, the master waiting for them, and one worker.

The master starts N `manage.py loadtest --worker-process` children (each in its own process
group, see loadtesting.processes), waits until every expected worker has said hello (the rest
from other machines with --expect-workers), and after the load asks each for the samples it has
not reported yet (loadtesting.load.distributed).
"""

import subprocess
import time
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment

from loadtesting.exit_codes import CannotRun
from loadtesting.load.distributed import FLUSH, MasterHooks, install_worker_hooks
from loadtesting.load.locust_adapter import worker_ids
from loadtesting.processes import deferred_signals, spawn, stop_group
from loadtesting.scenarios import Locustfile

WORKERS_CONNECT_TIMEOUT_S = 60.0
FLUSH_TIMEOUT_S = 5.0
WORKER_EXIT_TIMEOUT_S = 10.0


class Workers:
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


def connect_workers(environment, runner, port: int, plan, workers: Workers, stop) -> MasterHooks:
    """Start the local workers and wait until every expected worker has said hello."""
    hooks = MasterHooks(
        environment,
        runner,
        {"fixtures": plan.fixtures, "think_time": list(plan.scenario.think_time)},
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


def flush(runner, hooks: MasterHooks) -> None:
    """Ask every worker for the samples it has not reported yet, and wait for them."""
    expected = worker_ids(runner) & hooks.ready
    hooks.flushed.clear()
    runner.send_message(FLUSH)
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while not expected <= hooks.flushed and time.monotonic() < deadline:
        gevent.sleep(0.05)


def run_worker(master_host: str, master_port: int, locustfile: Locustfile | None = None) -> None:
    """A local worker process of `--workers N`: Locust's WorkerRunner with the harness's users,
    or the same classes of the same locustfile as the master's."""
    from loadtesting.kinds import MixKind, OwnUsersKind

    kind = MixKind() if locustfile is None else OwnUsersKind(locustfile)
    environment = Environment(
        user_classes=kind.worker_user_classes(),
        events=events,
        locustfile=str(locustfile.path) if locustfile else "manage.py loadtest",
    )
    runner = environment.create_worker_runner(master_host, master_port)
    install_worker_hooks(environment, runner, count_stock_outs=kind.count_stock_outs)
    events.init.fire(environment=environment, runner=runner, web_ui=None)
    runner.greenlet.join()
