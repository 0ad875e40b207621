"""`interactive`, the shop's side of Locust's web UI, through its supported extension points:

- a "Shop" tab (`template_args["extended_tabs"]` / `["extended_tables"]`) filled from
  `extended_stats` in /stats/requests (an `after_request` hook, as Locust's extend_web_ui
  example does): stock-outs apart from failures, the hot products' stock, the run's state and,
  once the reports are written, the verdict;
- routes of the harness's own on `web_ui.app`: /harness (its page: state, figures, verdict),
  /harness/status (the same as JSON), /harness/report (the report page) and the run's other
  files beside it by name.

When the test stops (in the UI or at the cap) the UI stays up: the harness audits and reports,
publishes the verdict here (`RunState.done`), and serves it until Ctrl-C (`serve_until_quit`).
"""

import json
import signal
import time
from pathlib import Path

import gevent
from flask import Response, abort, jsonify, request, send_file

from loadtesting.load.ui_state import AUDITING, DONE, RUNNING, RunState  # noqa: F401
from loadtesting.pages.ui import render_status

TAB = "shop"


def install(web_ui, environment, state: RunState) -> None:
    app = web_ui.app
    web_ui.template_args["extended_tabs"] = [{"title": "Shop", "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {
            "key": TAB,
            "structure": [{"key": "figure", "title": "Figure"}, {"key": "value", "title": "Value"}],
        }
    ]

    def failures() -> int:
        return environment.stats.total.num_failures

    @app.before_request
    def refuse_after_the_run():
        if state.state != RUNNING and request.path.rstrip("/").endswith("/swarm"):
            return jsonify(
                {
                    "success": False,
                    "message": "This run is over: its verdict is at /harness (Ctrl-C quits).",
                    "host": environment.host,
                }
            )
        return None

    @app.after_request
    def extend_stats(response):
        if request.path != "/stats/requests" or not response.is_json:
            return response
        body = response.get_json()
        body["extended_stats"] = [{"key": TAB, "data": state.rows(failures())}]
        response.set_data(json.dumps(body))
        return response

    @app.route("/harness")
    def harness_page():
        return Response(render_status(state.status(failures())), mimetype="text/html")

    @app.route("/harness/status")
    def harness_status():
        return jsonify(state.status(failures()))

    @app.route("/harness/report")
    def harness_report():
        page = (state.verdict or {}).get("reports", {}).get("html")
        if page is None or not Path(page).exists():
            abort(404)
        return send_file(Path(page).resolve(), mimetype="text/html")

    @app.route("/harness/<name>")
    def harness_file(name: str):
        # only the run's own files, by name; index.html of the results directory beside them
        path = state.files.get(name)
        if path is None and name == "index.html" and state.verdict:
            path = Path(state.verdict["reports"]["index"])
        if path is None or not path.exists():
            abort(404)
        return send_file(path.resolve())


def serve_until_quit(state: RunState, out, cap_s: float) -> None:
    """Keep the UI up with the verdict until Ctrl-C (or SIGTERM, or the cap), then stop it."""
    quit_reason: list[str] = []
    previous = {
        signum: signal.signal(signum, lambda number, _frame: quit_reason.append(str(number)))
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    url = state.url
    out(
        f"The verdict is in the web UI: {url}/harness (the report page: {url}/harness/report). "
        f"Press Ctrl-C to quit (the UI closes by itself after {cap_s / 60:g} min)."
    )
    deadline = time.monotonic() + cap_s
    try:
        while not quit_reason and time.monotonic() < deadline:
            gevent.sleep(0.2)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        state.close()
