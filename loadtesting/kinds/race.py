"""RaceKind: one product with little stock, every user held at a barrier and released at once;
one process (no --workers), no ramp-up; judged by the exact race counts."""

from loadtesting import audit, fixtures
from loadtesting.kinds.mix import MixKind, Part
from loadtesting.scenarios import RACE, Scenario, format_timespan
from loadtesting.verdict import checks as verdict_checks


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
