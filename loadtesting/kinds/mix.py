"""A scenario's way through the phases (`Part`) and the base kind, the shop's traffic mix
(quick, standard, stress, custom): the shop's fixtures, headless until the run time, judged by
the thresholds (stress also by its recovery probe). The other kinds change what differs."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import connections

from loadtesting import audit, fixtures
from loadtesting.probes import warm_up
from loadtesting.scenarios import MIX, Scenario, format_timespan
from loadtesting.verdict import checks as verdict_checks


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
