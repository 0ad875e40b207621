"""The scenarios of docs/loadtest.md: their sizes, run times, think times and default verdicts.

Pure data and parsing; nothing here imports locust or touches the database.
"""

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

MIX = "mix"
RACE = "race"
INTERACTIVE = "interactive"
CAPACITY = "capacity"

SCENARIO_NAMES = (
    "quick",
    "standard",
    "race",
    "stress",
    "interactive",
    "capacity",
    "all",
    "custom",
)
HOUSEKEEPING = ("prepare", "clean")
ALL_PARTS = ("quick", "standard", "race", "stress")

# A race that has not finished by then is stuck, not slow.
RACE_TIMEOUT_S = 60.0
INTERACTIVE_CAP_S = 30 * 60.0
INTERACTIVE_MAX_USERS = 1000
# capacity: 10 users, +10 every 30 s, up to 500 (--users) within 30 minutes (--run-time)
CAPACITY_MAX_USERS = 500
CAPACITY_CAP_S = 30 * 60.0
# The stress test's recovery probe: 10 users, `quick`'s verdict, at most this long.
PROBE_USERS = 10
PROBE_MAX_S = 30.0
# With a shortened --run-time the ramp-up (users / spawn rate) takes at most this share of it.
RAMP_SHARE = 0.25
# Per-endpoint thresholds judge only endpoints with at least this many steady-state samples.
MIN_ENDPOINT_SAMPLES = 50

_TIMESPAN = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s?)?$")


def parse_timespan(text: str) -> float:
    """Locust's syntax: `90`, `30s`, `5m`, `1h30m`, `1h2m3s`. Seconds; raises ValueError."""
    value = text.strip().lower()
    match = _TIMESPAN.match(value)
    if not value or match is None or not any(match.groupdict().values()):
        raise ValueError(f"{text!r} is not a run time (use 30s, 5m, 1h30m or seconds)")
    parts = {key: int(number or 0) for key, number in match.groupdict().items()}
    seconds = parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive run time")
    return float(seconds)


def format_timespan(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


@dataclass(frozen=True)
class Thresholds:
    """A scenario's performance verdict; None means "not judged"."""

    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    max_error_rate: float | None = None  # percent of all requests; stock-outs are not errors
    min_rps: float | None = None
    # quick: "every endpoint's p95"; the others judge the aggregate only.
    per_endpoint_p95: bool = False
    # Server RSS from the end of warm-up to the end of the load (loadtesting.memory), percent.
    max_rss_growth_pct: float | None = None

    def as_dict(self) -> dict:
        return {
            "max_p95_ms": self.max_p95_ms,
            "max_p99_ms": self.max_p99_ms,
            "max_error_rate_pct": self.max_error_rate,
            "min_rps": self.min_rps,
            "per_endpoint_p95": self.per_endpoint_p95,
            "max_rss_growth_pct": self.max_rss_growth_pct,
        }


QUICK_THRESHOLDS = Thresholds(max_p95_ms=100, max_error_rate=0, per_endpoint_p95=True)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    users: int
    spawn_rate: float
    run_time: float  # seconds; race: the hard timeout; interactive: the cap
    think_time: tuple[float, float] = (0.5, 1.5)
    thresholds: Thresholds = field(default_factory=Thresholds)
    recovery_probe: bool = False
    stock: int = 5  # race only
    max_users: int = INTERACTIVE_MAX_USERS  # interactive only

    @property
    def ramp_up(self) -> float:
        return self.users / self.spawn_rate if self.spawn_rate else 0.0


SCENARIOS: dict[str, Scenario] = {
    "quick": Scenario("quick", MIX, 10, 10, 120, (0.5, 1.5), QUICK_THRESHOLDS),
    "standard": Scenario(
        "standard",
        MIX,
        50,
        10,
        300,
        # 50 users at a mean 0.04 s think time could ask for 1,250 req/s: the server, not the
        # pacing, sets the figure (0.1 s would cap it at 500 req/s however fast the shop is).
        (0.02, 0.06),
        Thresholds(max_p95_ms=500, max_p99_ms=1000, max_error_rate=1, min_rps=300),
    ),
    "race": Scenario("race", RACE, 20, 20, RACE_TIMEOUT_S, (0, 0)),
    "stress": Scenario(
        "stress",
        MIX,
        200,
        20,
        600,
        (0.1, 0.5),
        Thresholds(max_p99_ms=2000, max_error_rate=5, max_rss_growth_pct=25),
        recovery_probe=True,
    ),
    "interactive": Scenario("interactive", INTERACTIVE, 20, 5, INTERACTIVE_CAP_S, (0.5, 1.5)),
    # Stepped up until the SLO (the seed's normal-load criteria) breaks: loadtesting.capacity.
    "capacity": Scenario(
        "capacity",
        CAPACITY,
        CAPACITY_MAX_USERS,
        10,
        CAPACITY_CAP_S,
        (0.02, 0.06),
        Thresholds(max_p95_ms=500, max_error_rate=1),
    ),
    # Everything from the options; only the thresholds given are judged.
    "custom": Scenario("custom", MIX, 10, 10, 60, (0.05, 0.15)),
}


@dataclass(frozen=True)
class Locustfile:
    """`custom --locustfile PATH [--user-classes A,B]`: the user's own Locust users run in place of
    the shop's mix. No class names: every User class in the file, as plain `locust -f` runs."""

    path: Path
    class_names: tuple[str, ...] = ()

    def describe(self) -> str:
        which = ", ".join(self.class_names) if self.class_names else "every User class"
        return f"{which} from {self.path}"


@dataclass(frozen=True)
class Overrides:
    """What the command line changes; None keeps the scenario's default."""

    users: int | None = None
    spawn_rate: float | None = None
    run_time: float | None = None
    think_time: tuple[float, float] | None = None
    stock: int | None = None
    max_users: int | None = None
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None
    max_rss_growth_pct: float | None = None


def resolve(name: str, overrides: Overrides, *, part_of_all: bool = False) -> Scenario:
    """The scenario with the command line applied. `all` is resolved part by part; there the
    race keeps its own hard timeout (--run-time shortens the timed parts)."""
    base = SCENARIOS[name]
    if part_of_all and base.kind == RACE:
        overrides = replace(overrides, run_time=None)
    users = overrides.users or base.users
    run_time = overrides.run_time or base.run_time
    if overrides.spawn_rate is not None:
        spawn_rate = overrides.spawn_rate
    elif base.kind == RACE:
        spawn_rate = float(users)  # all at once; the barrier makes them simultaneous
    else:
        spawn_rate = float(min(users, 10)) if name == "custom" else base.spawn_rate
        if base.kind == MIX and users / spawn_rate > run_time * RAMP_SHARE:
            # A shortened run keeps its shape: the ramp-up takes at most a quarter of it.
            spawn_rate = round(users / (run_time * RAMP_SHARE), 2)
    thresholds = replace(
        base.thresholds,
        **{
            key: value
            for key in (
                "max_p95_ms",
                "max_p99_ms",
                "max_error_rate",
                "min_rps",
                "max_rss_growth_pct",
            )
            if (value := getattr(overrides, key)) is not None
        },
    )
    return replace(
        base,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        think_time=overrides.think_time or base.think_time,
        thresholds=thresholds,
        stock=base.stock if overrides.stock is None else overrides.stock,
        max_users=overrides.max_users or base.max_users,
    )


def probe_scenario(stress: Scenario, overrides: Overrides) -> Scenario:
    """The recovery probe after stress: 10 users that must meet `quick` again."""
    thresholds = replace(
        QUICK_THRESHOLDS,
        **{
            key: value
            for key in ("max_p95_ms", "max_error_rate")
            if (value := getattr(overrides, key)) is not None
        },
    )
    return replace(
        SCENARIOS["quick"],
        name="stress-recovery",
        users=PROBE_USERS,
        spawn_rate=PROBE_USERS,
        run_time=min(PROBE_MAX_S, stress.run_time),
        thresholds=thresholds,
    )
