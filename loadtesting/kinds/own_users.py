"""OwnUsersKind (custom --locustfile): the user's own Locust classes on any API; no shop
fixtures, no stock-outs, and the oversell audit only on a shop the harness started itself."""

from django.db import connections

from loadtesting import audit
from loadtesting.kinds.mix import MixKind, Part
from loadtesting.scenarios import Locustfile, Scenario, format_timespan

AUDIT_SKIPPED = (
    "The oversell audit was skipped: the target was given with --host and runs your own "
    "locustfile, so it may not be the shop or use this harness's database."
)


class OwnUsersKind(MixKind):
    """custom --locustfile: the user's own Locust classes, on their own wait_time."""

    count_stock_outs = False  # the file's 409s are whatever it marked them
    global_events = True  # its listeners are on locust.events, registered when it is imported
    any_api_target = True  # with --host the target may be any API

    def __init__(self, locustfile: Locustfile) -> None:
        self.locustfile = locustfile

    def describe(self, scenario: Scenario) -> str:
        return (
            f"{scenario.users} users, spawn {scenario.spawn_rate:g}/s, run time "
            f"{format_timespan(scenario.run_time)}; {self.locustfile.describe()}, "
            "with their own wait_time"
        )

    def prepare(self, harness, part: Part) -> None:
        """No shop fixtures; the invariant only on a shop the harness started."""
        if harness.options.overrides.think_time is not None:
            harness.out.write(
                "--think-time does not apply: your user classes keep their own wait_time.",
                "WARNING",
            )
        part.audit_before = audit.invariant() if part.target.started else None
        connections.close_all()  # no database connection is held across the load

    def user_classes(self, plan) -> list[type]:
        from loadtesting.load import own_users

        own = own_users.load(self.locustfile)
        if own.ignored_shapes and plan is not None:
            plan.progress(
                f"Not used: {', '.join(own.ignored_shapes)} (a LoadTestShape); "
                "--users, --spawn-rate and --run-time set the load."
            )
        return own.classes

    def locustfile_name(self, scenario: Scenario) -> str:
        return str(self.locustfile.path)

    def locust_options(self, plan, events):
        """What `locust -f` would give the file's listeners as `environment.parsed_options`,
        with the options the file adds itself (init_command_line_parser) at their defaults."""
        from loadtesting.load.locust_adapter import locust_parser

        scenario = plan.scenario
        parser = locust_parser()
        events.init_command_line_parser.fire(parser=parser)
        return parser.parse_args(
            [
                *("--users", str(scenario.users), "--spawn-rate", str(scenario.spawn_rate)),
                *("--run-time", f"{int(scenario.run_time)}s", "--host", plan.host),
            ]
        )

    def after_load(self, harness, part: Part) -> None:
        if not part.target.started:
            part.audit = {"skipped": AUDIT_SKIPPED}  # printed with the verdict lines
            return
        part.audit = audit.after_load(part.audit_before, part.result, part.target.url, harness.out)

    def options_json(self, described: dict, part: Part, options) -> dict:
        described["locustfile"] = str(self.locustfile.path)
        described["user_classes"] = part.result.user_classes
        described["think_time_s"] = None  # the classes' own wait_time
        return described
