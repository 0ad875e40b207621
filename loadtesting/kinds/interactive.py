"""InteractiveKind: the mix, driven from Locust's web UI within the harness's caps; after Stop
the UI shows the verdict until Ctrl-C."""

from loadtesting.exit_codes import CannotRun
from loadtesting.kinds.mix import MixKind, Part
from loadtesting.scenarios import INTERACTIVE, INTERACTIVE_CAP_S, Scenario, format_timespan
from loadtesting.server import port_is_free


class InteractiveKind(MixKind):
    """The mix from Locust's web UI on 127.0.0.1:--web-port, within the user cap and the time."""

    name = INTERACTIVE
    interrupt_ends_early = False  # no planned end: Ctrl-C is one way to finish it

    def describe(self, scenario: Scenario) -> str:
        return (
            f"Locust web UI, at most {scenario.max_users} users for "
            f"{format_timespan(scenario.run_time)}"
        )

    def plan_options(self, harness, part: Part) -> dict:
        port, scenario = harness.options.web_port, part.scenario
        if not port_is_free("127.0.0.1", port):
            raise CannotRun(f"Port {port} is busy; choose another with --web-port.")

        def on_web_ui(url: str) -> None:
            harness.out.write(
                f"Locust web UI: {url} (host {part.target.url}; at most {scenario.max_users} "
                f"users, stops by itself after {format_timespan(scenario.run_time)}). "
                f"Stop the test in the UI or press Ctrl-C for the audit and the reports.",
                "SUCCESS",
            )

        from loadtesting.load.ui_state import RunState

        self.ui_state = RunState()
        return {"web_port": port, "on_web_ui": on_web_ui, "ui_state": self.ui_state}

    def locust_options(self, plan, events):
        from loadtesting.load.locust_adapter import locust_parser

        scenario = plan.scenario
        return locust_parser().parse_args(
            ["--users", str(scenario.users), "--spawn-rate", str(scenario.spawn_rate)]
            + ["--host", plan.host]
        )

    def drive(self, environment, runner, plan, result, stop):
        from loadtesting.load.web_ui import drive_web_ui

        drive_web_ui(environment, runner, plan, result, stop)

    def options_json(self, described: dict, part: Part, options) -> dict:
        described["max_users"] = part.scenario.max_users
        described["cap_s"] = described.pop("run_time_s")
        described["web_port"] = options.web_port
        return described

    def after_report(self, harness, part: Part, verdict: dict) -> None:
        """Stopped in the UI or at the cap: the UI shows the verdict until Ctrl-C. Ctrl-C during
        the load already closed it (load.phase)."""
        state = getattr(self, "ui_state", None)
        if state is None or state.web_ui is None or part.result.interrupted:
            return
        from loadtesting.load.web_ui_shop import serve_until_quit

        state.done(verdict)
        serve_until_quit(state, harness.out.write, INTERACTIVE_CAP_S)
