"""`interactive`: Locust's web UI on 127.0.0.1:--web-port, fenced by the harness's safety rules.

The UI may start at most the scenario's user cap, only on the harness's target; the load stops
when it is stopped in the UI, at the cap's time, or on Ctrl-C.
"""

import socket
import time

import gevent
from flask import jsonify, request

from loadtesting.load import web_ui_shop
from loadtesting.load.locust_adapter import web_ui_argv
from loadtesting.load.plan import LoadPlan, LoadResult
from loadtesting.load.runner import StopFlag, progress_line
from loadtesting.scenarios import format_timespan


def _install_guard(web_ui, environment, max_users: int) -> None:
    @web_ui.app.before_request
    def guard():
        # The UI can start any number of users on any host; the harness's safety rules say no.
        if request.method != "POST" or not request.path.rstrip("/").endswith("/swarm"):
            return None
        try:
            users = int(request.form.get("user_count", "0"))
        except ValueError:
            users = 0
        if users > max_users:
            message = f"At most {max_users} users (raise the cap with --max-users)."
            return jsonify({"success": False, "message": message, "host": environment.host})
        host = (request.form.get("host") or "").rstrip("/")
        if host and host != environment.host:
            message = f"The target is fixed to {environment.host} (start the harness with --host)."
            return jsonify({"success": False, "message": message, "host": environment.host})
        return None


def _announce(plan: LoadPlan) -> None:
    for _ in range(50):  # announce the URL once it answers
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", plan.web_port)) == 0:
                break
        gevent.sleep(0.1)
    if plan.on_web_ui:
        plan.on_web_ui(f"http://127.0.0.1:{plan.web_port}")


def drive_web_ui(environment, runner, plan: LoadPlan, result: LoadResult, stop: StopFlag) -> None:
    """Serve the UI until the test is stopped there, the cap's time is up, or a signal came."""
    scenario = plan.scenario
    stopped = {"done": False}

    def on_test_stop(**_kwargs):
        if result.ran:
            stopped["done"] = True

    environment.events.test_stop.add_listener(on_test_stop)
    with web_ui_argv():
        web_ui = environment.create_web_ui(host="127.0.0.1", port=plan.web_port, delayed_start=True)
        _install_guard(web_ui, environment, scenario.max_users)
        if plan.ui_state is not None:  # the shop's tab and routes; the UI outlives the load
            web_ui_shop.install(web_ui, environment, plan.ui_state)
            plan.ui_state.web_ui, plan.ui_state.url = web_ui, f"http://127.0.0.1:{plan.web_port}"
        web_ui.start()
        _announce(plan)
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
                plan.progress(progress_line(runner, result, scenario.run_time))
                next_progress = now + plan.progress_interval
            gevent.sleep(0.2)
    if plan.ui_state is not None:  # after web_ui_argv() restored it: trimmed again until the end
        plan.ui_state.state = web_ui_shop.AUDITING
        plan.ui_state.hold_argv()
    environment.events.test_stop.remove_listener(on_test_stop)
    if stopped["done"]:
        result.stop_reason = "stopped in the web UI"
