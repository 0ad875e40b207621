"""The kinds of scenario, one small class each: what differs between them lives here, not in
flags tested across the phases.

- MixKind (quick, standard, stress, custom): the shop's fixtures, its traffic mix, headless
  until the run time; judged by the thresholds (stress also by its recovery probe).
- RaceKind: one product with little stock, every user held at a barrier and released at once;
  one process (no --workers), no ramp-up; judged by the exact race counts.
- InteractiveKind: the mix, driven from Locust's web UI within the harness's caps.
- OwnUsersKind (custom --locustfile): the user's own Locust classes on any API; no shop fixtures,
  no stock-outs, and the oversell audit only on a shop the harness started itself.

A kind's load methods (`user_classes`, `locust_options`, `drive`) run inside the load, after
gevent's patching, and import loadtesting.load (the package that imports Locust) only then.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import connections

from loadtesting import audit, fixtures
from loadtesting.exit_codes import CannotRun
from loadtesting.probes import warm_up
from loadtesting.scenarios import (
    CAPACITY,
    INTERACTIVE,
    INTERACTIVE_CAP_S,
    MIX,
    RACE,
    Locustfile,
    Scenario,
    format_timespan,
)
from loadtesting.server import port_is_free
from loadtesting.verdict import checks as verdict_checks

AUDIT_SKIPPED = (
    "The oversell audit was skipped: the target was given with --host and runs your own "
    "locustfile, so it may not be the shop or use this harness's database."
)


@dataclass
class Part:
    """One scenario's way through the phases; each phase fills in what it found."""

    scenario: Scenario
    kind: "MixKind"  # or a subclass: what this kind of scenario does differently
    base: Path  # <results>/<scenario>_<stamp>
    target: object  # loadtesting.target.Target
    payload: dict = field(default_factory=dict)  # the fixtures the users get
    audit_before: dict | None = None
    result: object = None  # loadtesting.load.runner.LoadResult
    resources: dict | None = None  # the server's CPU and memory
    rows: list = field(default_factory=list)  # the verdict's per-endpoint figures
    total: dict = field(default_factory=dict)  # and the total
    audit: dict = field(default_factory=dict)
    race: dict | None = None
    recovery: dict | None = None
    capacity: dict | None = None  # capacity: the search's steps and the capacity found


class MixKind:
    """The shop's traffic mix, headless, for the run time; judged by the thresholds."""

    name = MIX
    count_stock_outs = True  # a 409 insufficient_stock is counted apart, not as a failure
    allows_workers = True
    steady_from_start = False  # the ramp-up is not part of the steady state
    global_events = False  # each load gets event hooks of its own
    any_api_target = False  # the target must be the shop, sharing this database
    timeout_reason = "run time reached"
    interrupt_ends_early = True  # Ctrl-C before the run time: an incomplete run, never a pass

    def describe(self, scenario: Scenario) -> str:
        low, high = scenario.think_time
        return (
            f"{scenario.users} users, spawn {scenario.spawn_rate:g}/s, run time "
            f"{format_timespan(scenario.run_time)}, think time {low:g}-{high:g} s"
        )

    # --- fixtures -------------------------------------------------------------------------------

    def prepare(self, harness, part: Part) -> None:
        """The shop's fixtures, the invariant before the load, every server worker warmed up."""
        part.payload = fixtures.seed(seed=harness.options.seed, customers=part.scenario.users)
        self.seed_more(harness, part)
        part.audit_before = audit.invariant()
        harness.out.write(f"Fixtures: {fixtures.fixture_summary(part.payload)}")
        self.describe_fixtures(harness, part)
        if not part.audit_before["ok"]:
            harness.out.write(
                "Warning: the stock invariant is already broken before the load.", "WARNING"
            )
        connections.close_all()  # no database connection is held across the load
        warm_up(
            part.target.url,
            concurrency=harness.options.server_workers,
            token=part.payload["customers"][0]["token"],
            product_id=part.payload["hot_products"][0],
        )

    def seed_more(self, harness, part: Part) -> None:
        """Fixtures of this kind's own, beside the shop's."""

    def describe_fixtures(self, harness, part: Part) -> None:
        """A console line about them."""

    # --- load -----------------------------------------------------------------------------------

    def plan_options(self, harness, part: Part) -> dict:
        """LoadPlan fields of this kind's own; CannotRun when it cannot run here."""
        return {}

    def user_classes(self, plan) -> list[type]:
        from loadtesting.load.users import ShopUser

        return [ShopUser]

    def worker_user_classes(self) -> list[type]:
        return self.user_classes(None)

    def locustfile_name(self, scenario: Scenario) -> str:
        return f"manage.py loadtest {scenario.name}"

    def locust_options(self, plan, events):
        """`environment.parsed_options`; None: Locust's defaults will do."""
        return None

    def drive(self, environment, runner, plan, result, stop):
        from loadtesting.load.runner import headless

        return headless(runner, plan, result, stop)

    def finished(self, scenario: Scenario, recorder) -> str:
        """Why the load may stop before its run time ("" to keep going)."""
        return ""

    # --- audit and verdict ----------------------------------------------------------------------

    def after_load(self, harness, part: Part) -> None:
        part.audit = audit.after_load(part.audit_before, part.result, part.target.url, harness.out)
        if part.scenario.recovery_probe:
            part.recovery = audit.recovery_probe(harness, part)

    def checks(self, part: Part) -> list:
        thresholds = part.scenario.thresholds
        return [
            *verdict_checks.threshold_checks(thresholds, part.rows, part.total),
            *verdict_checks.memory_checks(thresholds, part.resources),
        ]

    def options_json(self, described: dict, part: Part, options) -> dict:
        return described

    def after_report(self, harness, part: Part, verdict: dict) -> None:
        """Once the verdict and the reports are written."""


class RaceKind(MixKind):
    """The last units: every user waits at a barrier, then orders 1 unit of one product."""

    name = RACE
    allows_workers = False  # the barrier is one process's
    steady_from_start = True  # everyone at once: no ramp-up
    timeout_reason = "race timeout"
    product_sku = ""  # the race product's, once seeded

    def describe(self, scenario: Scenario) -> str:
        return (
            f"{scenario.users} users, stock {scenario.stock}, all at once "
            f"(hard timeout {format_timespan(scenario.run_time)})"
        )

    def seed_more(self, harness, part: Part) -> None:
        product = fixtures.race_product(stock=part.scenario.stock)
        part.payload["race"] = {"product_id": product.pk, "stock": part.scenario.stock}
        self.product_sku = product.sku

    def describe_fixtures(self, harness, part: Part) -> None:
        scenario = part.scenario
        harness.out.write(
            f"Race:     product {self.product_sku} (id {part.payload['race']['product_id']}) "
            f"with stock {scenario.stock}; {scenario.users} users wait at a barrier, "
            "then order 1 unit each"
        )

    def user_classes(self, plan) -> list[type]:
        from loadtesting.load.users import RACE_BARRIER, RaceUser

        RACE_BARRIER.reset(plan.scenario.users)
        RaceUser.barrier_timeout = plan.scenario.run_time
        return [RaceUser]

    def finished(self, scenario: Scenario, recorder) -> str:
        if sum(recorder.outcomes.values()) >= scenario.users:
            return "every race user ordered once"
        return ""

    def after_load(self, harness, part: Part) -> None:
        super().after_load(harness, part)
        part.race = audit.race(
            product_id=part.payload["race"]["product_id"],
            stock=part.scenario.stock,
            users=part.scenario.users,
            outcomes=part.result.outcomes,
        )

    def checks(self, part: Part) -> list:
        return verdict_checks.race_checks(part.race)

    def options_json(self, described: dict, part: Part, options) -> dict:
        described["workers"] = 0
        described["stock"] = part.scenario.stock
        described["hard_timeout_s"] = described.pop("run_time_s")
        return described


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


class CapacityKind(MixKind):
    """The mix with the user count stepped up (loadtesting.capacity) until the SLO breaks or
    req/s stops growing; judged by whether a capacity was measured (and the audit)."""

    name = CAPACITY
    allows_workers = False  # each step is measured from this process's samples

    def describe(self, scenario: Scenario) -> str:
        from loadtesting.capacity import schedule_for

        schedule = schedule_for(scenario.users, scenario.run_time)
        return (
            f"{schedule.start_users} users, +{schedule.step_users} every {schedule.step_s:g} s "
            f"up to {schedule.max_users}, at most {format_timespan(scenario.run_time)}; "
            f"SLO p95 < {scenario.thresholds.max_p95_ms:g} ms, "
            f"errors < {scenario.thresholds.max_error_rate:g} %"
        )

    def drive(self, environment, runner, plan, result, stop):
        from loadtesting.load.capacity import drive_capacity

        drive_capacity(runner, plan, result, stop)

    def after_load(self, harness, part: Part) -> None:
        super().after_load(harness, part)
        part.capacity = part.result.capacity

    def checks(self, part: Part) -> list:
        from loadtesting.capacity import check_label

        found = part.capacity or {"max_users": None, "stopped_because": "no step ran"}
        return [
            verdict_checks.Check(
                "capacity",
                check_label(found),
                found["max_users"] is not None,
                measured=found["max_users"],
                limit=">= 1 step within the SLO",
            )
        ]


KINDS: dict[str, type[MixKind]] = {
    MIX: MixKind,
    RACE: RaceKind,
    INTERACTIVE: InteractiveKind,
    CAPACITY: CapacityKind,
}


def kind_for(scenario: Scenario, locustfile: Locustfile | None = None) -> MixKind:
    """The kind a scenario runs as: your own users when a locustfile is given."""
    if locustfile is not None:
        return OwnUsersKind(locustfile)
    return KINDS[scenario.kind]()
