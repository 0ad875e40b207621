"""Locust master/worker plumbing for the harness's own figures.

Workers record every request exactly (loadtesting.load.recorder) and ship what is new to the
master with each stats report, plus once more on the master's "flush" after the load stops.
Fixtures reach the workers in a setup message, so a worker on another machine needs nothing but
the locustfile:

    worker  --hello-->  master  --setup (fixtures, think time)-->  worker
    worker  --report_to_master {"loadtest": samples, ledger, outcomes}-->  master

No locust import: the runner objects are passed in.
"""

from loadtesting.load.recorder import RECORDER
from loadtesting.load.users import configure

HELLO = "loadtest_hello"
SETUP = "loadtest_setup"
FLUSH = "loadtest_flush"
SAMPLES = "loadtest_samples"


def install_worker_hooks(environment, runner, *, count_stock_outs: bool = True) -> None:
    """On a WorkerRunner: record requests, answer setup and flush, then say hello. Once per
    runner: a user's locustfile may be loadtesting/locustfile.py, which installs them too."""
    if getattr(runner, "loadtest_hooks", False):
        return
    runner.loadtest_hooks = True

    def on_setup(environment, msg, **_kwargs):
        configure(msg.data or {})

    def on_flush(environment, msg, **_kwargs):
        runner.send_message(SAMPLES, RECORDER.drain())

    def on_report_to_master(client_id, data, **_kwargs):
        data["loadtest"] = RECORDER.drain()

    RECORDER.reset(count_stock_outs=count_stock_outs)
    environment.events.request.add_listener(RECORDER.on_request)
    environment.events.report_to_master.add_listener(on_report_to_master)
    runner.register_message(SETUP, on_setup)
    runner.register_message(FLUSH, on_flush)
    runner.send_message(HELLO, {})


class MasterHooks:
    """On the MasterRunner: greet workers with the setup, merge what they report."""

    def __init__(self, environment, runner, setup: dict) -> None:
        self.runner = runner
        self.setup = setup
        self.ready: set[str] = set()
        self.flushed: set[str] = set()
        runner.register_message(HELLO, self._on_hello)
        runner.register_message(SAMPLES, self._on_samples)
        environment.events.worker_report.add_listener(self._on_worker_report)

    def _on_hello(self, environment, msg, **_kwargs):
        self.runner.send_message(SETUP, self.setup, client_id=msg.node_id)
        self.ready.add(msg.node_id)

    def _on_samples(self, environment, msg, **_kwargs):
        RECORDER.merge(msg.data or {})
        self.flushed.add(msg.node_id)

    def _on_worker_report(self, client_id, data, **_kwargs):
        RECORDER.merge(data.get("loadtest") or {})
