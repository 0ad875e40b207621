"""What one load is asked to do (LoadPlan) and what it measured (LoadResult): plain data, no
Locust, so that the verdict and the report writers can be tested on a recorded run."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtesting.scenarios import Scenario


@dataclass
class LoadPlan:
    scenario: Scenario
    kind: object  # a loadtesting.kinds.Kind: the users, the Locust options, the drive
    host: str
    fixtures: dict
    report_base: Path | None  # <results>/<scenario>_<stamp>; None: no HTML/CSV (the probe)
    progress: Callable[[str], None]
    progress_interval: float = 5.0
    workers: int = 0
    expect_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    worker_command: Callable[[int], list[str]] | None = None
    child_output: Path | None = None
    web_port: int = 8089
    on_web_ui: Callable[[str], None] | None = None
    ui_state: object = None  # interactive: load.web_ui_shop.RunState (the UI outlives the load)


@dataclass
class LoadResult:
    ran: bool = False
    interrupted: bool = False
    stop_reason: str = ""
    start: float = 0.0
    steady_start: float = 0.0
    end: float = 0.0
    samples: list = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)
    locust_totals: dict = field(default_factory=dict)
    user_exceptions: list = field(default_factory=list)
    workers: int = 0
    reports: dict = field(default_factory=dict)
    user_classes: list[str] = field(default_factory=list)
    generator: dict | None = None  # the load generator's own CPU, filled in by the load phase
    live: dict | None = None  # the report page's samples (load.live_samples), by the load phase
    steps: list | None = None  # capacity: [[epoch, users], ...] when each step began
    capacity: dict | None = None  # capacity: the verdict's `capacity` (loadtesting.capacity)
