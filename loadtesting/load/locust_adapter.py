"""Every Locust internal the harness touches, in one place: where Locust 2.47 has no public API.

The rest of loadtesting.load uses Locust's documented API only (Environment and its runners,
`environment.events` with add_listener / remove_listener / fire, `stats_history`, StatsCSV's
writer methods, `web_ui.app`, `runner.send_message` / `register_message`, `runner.greenlet`).
What is left is named here, one function each, and `check()` (run by
tests/loadtesting/test_locust_adapter.py in a subprocess, so that pytest never imports locust)
fails with the name of whatever a Locust upgrade moved:

- locust.util.load_locustfile.is_user_class / is_shape_class: how `locust -f` tells User and
  LoadTestShape classes in a module (undocumented helpers).
- locust.argument_parser.get_empty_argument_parser / setup_parser_arguments: Locust's own option
  parser, without config files, for a locustfile's `environment.parsed_options` (undocumented).
- locust.argument_parser.ui_extra_args_dict(), which WebUI calls with no arguments when it is
  created and on every page view, so that it parses sys.argv as Locust options: the web UI is
  created and served with sys.argv holding only the program name (there is no parameter to hand
  it the options instead).
- locust.html.get_html_report: Locust's HTML report of an environment (undocumented function).
- Runner.exceptions: the user exceptions by traceback (undocumented attribute).
- MasterRunner.clients.all: the connected workers (undocumented attribute).
- WebUI.server: set once the web UI has started; stopping one that never served fails.
- locust.runners.STATE_STOPPED and locust.stats.PERCENTILES_TO_REPORT (undocumented constants).
"""

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from locust import argument_parser, runners, stats
from locust import html as locust_html
from locust import web as locust_web
from locust.util import load_locustfile

STATE_STOPPED = runners.STATE_STOPPED
PERCENTILES_TO_REPORT = stats.PERCENTILES_TO_REPORT


def is_user_class(value) -> bool:
    return load_locustfile.is_user_class(value)


def is_shape_class(value) -> bool:
    return load_locustfile.is_shape_class(value)


def locust_parser():
    """Locust's option parser with every option it knows, reading no config file."""
    parser = argument_parser.get_empty_argument_parser(add_help=False, default_config_files=[])
    argument_parser.setup_parser_arguments(parser)
    return parser


@contextmanager
def web_ui_argv() -> Iterator[None]:
    """While the web UI is created and serves: sys.argv without the harness's own options (WebUI
    parses sys.argv as Locust options, through ui_extra_args_dict())."""
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        yield
    finally:
        sys.argv = argv


def html_report(environment) -> str:
    return locust_html.get_html_report(environment, show_download_link=False)


def user_exceptions(runner) -> list[dict]:
    return [
        {"count": row["count"], "message": row["msg"], "traceback": row["traceback"]}
        for row in runner.exceptions.values()
    ]


def worker_ids(runner) -> set[str]:
    return {client.id for client in runner.clients.all}


def web_ui_started(web_ui) -> bool:
    return getattr(web_ui, "server", None) is not None


# --- what a Locust upgrade must keep --------------------------------------------------------------


def _check_classes(problems: list[str]) -> None:
    from locust import FastHttpUser, LoadTestShape, task

    class Probe(FastHttpUser):
        @task
        def nothing(self):
            pass

    class Shape(LoadTestShape):
        def tick(self):
            return None

    if not is_user_class(Probe) or is_user_class(FastHttpUser):
        problems.append("load_locustfile.is_user_class no longer tells concrete User classes")
    if not is_shape_class(Shape) or is_shape_class(Probe):
        problems.append("load_locustfile.is_shape_class no longer tells LoadTestShape classes")


def _check_parser(problems: list[str]) -> None:
    parsed = locust_parser().parse_args(["--users", "3", "--spawn-rate", "2", "--run-time", "5s"])
    if (parsed.num_users, parsed.spawn_rate, parsed.run_time) != (3, 2.0, 5):
        problems.append("argument_parser.setup_parser_arguments: --users/--spawn-rate/--run-time")


def _check_web_ui(problems: list[str]) -> None:
    source = inspect.getsource(locust_web.WebUI)
    if "argument_parser.ui_extra_args_dict()" not in source:
        problems.append("WebUI no longer calls argument_parser.ui_extra_args_dict() (sys.argv)")
    if inspect.signature(argument_parser.ui_extra_args_dict).parameters["args"].default is not None:
        problems.append("argument_parser.ui_extra_args_dict(args=None) changed")
    if "self.server = " not in source:
        problems.append("WebUI.server is no longer set when the web UI starts")


def _check_runners(problems: list[str]) -> None:
    from locust.env import Environment

    environment = Environment(user_classes=[])
    runner = environment.create_local_runner()
    if not isinstance(getattr(runner, "exceptions", None), dict):
        problems.append("Runner.exceptions is no longer a dict")
    if "show_download_link" not in inspect.signature(locust_html.get_html_report).parameters:
        problems.append("locust.html.get_html_report(show_download_link=) changed")
    elif "<html" not in html_report(environment)[:2000].lower():
        problems.append("locust.html.get_html_report no longer returns an HTML page")
    runner.quit()
    if not isinstance(inspect.getattr_static(runners.WorkerNodes, "all", None), property):
        problems.append("MasterRunner.clients.all (WorkerNodes.all) is gone")
    if not isinstance(STATE_STOPPED, str) or not PERCENTILES_TO_REPORT:
        problems.append("locust.runners.STATE_STOPPED or locust.stats.PERCENTILES_TO_REPORT")


def check() -> list[str]:
    """What moved in this Locust; empty when every internal above is where the harness expects."""
    problems: list[str] = []
    for part in (_check_classes, _check_parser, _check_web_ui, _check_runners):
        try:
            part(problems)
        except Exception as exc:  # noqa: BLE001 - a moved name is a finding, not a crash
            problems.append(f"{part.__name__}: {type(exc).__name__}: {exc}")
    return problems


if __name__ == "__main__":
    found = check()
    for problem in found:
        print(f"locust_adapter: {problem}")
    sys.exit(1 if found else 0)
