"""The kinds of scenario, one small class each in a module of its own: what differs between them
lives here, not in flags tested across the phases.

- MixKind (quick, standard, stress, custom): the shop's fixtures, its traffic mix, headless
  until the run time; judged by the thresholds (stress also by its recovery probe).
- RaceKind: one product with little stock, every user held at a barrier and released at once;
  one process (no --workers), no ramp-up; judged by the exact race counts.
- InteractiveKind: the mix, driven from Locust's web UI within the harness's caps.
- OwnUsersKind (custom --locustfile): the user's own Locust classes on any API; no shop fixtures,
  no stock-outs, and the oversell audit only on a shop the harness started itself.
- CapacityKind: the mix with the user count stepped up until the SLO breaks or req/s stops
  growing; judged by whether a capacity was measured.

A kind's load methods (`user_classes`, `locust_options`, `drive`) run inside the load, after
gevent's patching, and import loadtesting.load (the package that imports Locust) only then.
"""

from loadtesting.kinds.capacity import CapacityKind
from loadtesting.kinds.interactive import InteractiveKind
from loadtesting.kinds.mix import MixKind, Part
from loadtesting.kinds.own_users import AUDIT_SKIPPED, OwnUsersKind
from loadtesting.kinds.race import RaceKind
from loadtesting.scenarios import CAPACITY, INTERACTIVE, MIX, RACE, Locustfile, Scenario

__all__ = [
    "AUDIT_SKIPPED",
    "KINDS",
    "CapacityKind",
    "InteractiveKind",
    "MixKind",
    "OwnUsersKind",
    "Part",
    "RaceKind",
    "kind_for",
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
