"""The options phase: every option of `manage.py loadtest`, and every check between them that
can be made before anything is started, migrated or seeded (a bad one: CannotRun, exit 3).

`add_arguments(parser)` defines them (the management command's parser); `build(scenario,
parsed)` turns the parsed values into the Options the harness runs with.
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from loadtesting.exit_codes import CannotRun
from loadtesting.fixtures import DEFAULT_SEED
from loadtesting.kinds import KINDS
from loadtesting.scenarios import (
    ALL_PARTS,
    HOUSEKEEPING,
    SCENARIO_NAMES,
    SCENARIOS,
    Locustfile,
    Overrides,
    parse_timespan,
)
from loadtesting.server import port_is_free
from loadtesting.target import normalise_host
from loadtesting.verdict.compare import load_baseline

DEFAULT_CREDENTIALS = "loadtest_credentials.json"


@dataclass
class Options:
    scenario: str
    overrides: Overrides = field(default_factory=Overrides)
    host: str | None = None
    allow_remote: bool = False
    results_dir: Path = Path("load_test_results")
    workers: int = 0
    expect_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    seed: int = DEFAULT_SEED
    compare: Path | None = None
    baseline: dict | None = None
    web_port: int = 8089
    server_workers: int = 4
    worker_command: Callable[[int], list[str]] | None = None  # how to start a local worker
    locustfile: Locustfile | None = None  # custom --locustfile: the user's own users


# --- values ------------------------------------------------------------------------------------


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _count(text: str) -> int:
    return _whole_number(text, 0)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _number(text: str) -> float:
    value = _float(text)
    if value != value or value < 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _positive_number(text: str) -> float:
    """A finite number above 0 (the spawn rate: 0 would start nobody); one message for -1 and 0."""
    value = _float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number greater than 0")
    return value


def _percentage(text: str) -> float:
    value = _number(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def _timespan(text: str) -> float:
    try:
        return parse_timespan(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _think_time(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    low_s, high_s = _number(low), _number(high or low)
    if high_s < low_s:
        raise argparse.ArgumentTypeError(f"{text!r}: the maximum is below the minimum")
    return low_s, high_s


def _class_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no User class")
    return names


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def _listening_port(text: str) -> int:
    """A port to listen on by its number (--web-port): 0 would be a random one nobody is told."""
    value = _port(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port from 1 to 65535")
    return value


def locustfile_of(options: dict) -> Locustfile | None:
    if options["locustfile"] is None:
        if options["user_classes"]:
            raise CannotRun("--user-classes needs --locustfile.")
        return None
    # Absolute: the worker processes are given the same path.
    return Locustfile(options["locustfile"].resolve(), options["user_classes"] or ())


def _check_locustfile_run(scenario: str, locustfile: Locustfile, options: dict) -> None:
    """What can be told before anything starts; the file itself is imported when the load is
    about to run (it imports locust)."""
    if scenario != "custom":
        raise CannotRun(
            f"--locustfile runs only with the custom scenario, not {scenario}: "
            "`loadtest custom --locustfile PATH`."
        )
    if not locustfile.path.is_file():
        raise CannotRun(f"--locustfile {locustfile.path}: no such file.")
    if options["expect_workers"] > options["workers"]:
        raise CannotRun(
            "--expect-workers: workers from other machines cannot join a --locustfile run "
            "(they would not load your file through the harness); use local --workers."
        )


# --- the arguments -----------------------------------------------------------------------------


def _load_arguments(parser) -> None:
    """Who the simulated users are and how many."""
    parser.add_argument(
        "scenario",
        nargs="?",
        choices=SCENARIO_NAMES + HOUSEKEEPING,
        help="quick | standard | race | stress | interactive | all | custom | prepare | clean",
    )
    load = parser.add_argument_group("load")
    load.add_argument("--users", type=_positive_int, help="simulated users (race: racers)")
    load.add_argument(
        "--spawn-rate", type=_positive_number, help="users started per second (above 0)"
    )
    load.add_argument(
        "--run-time",
        type=_timespan,
        help="30s, 5m, 1h30m; race: hard timeout (60s); interactive: cap (30m)",
    )
    load.add_argument(
        "--think-time",
        type=_think_time,
        metavar="MIN,MAX",
        help="seconds between tasks (not with --locustfile: its users keep their wait_time)",
    )
    load.add_argument(
        "--locustfile",
        type=Path,
        metavar="PATH",
        help="custom only: run your own Locust users from this file instead of the shop's mix, "
        "as `locust -f PATH` would (no shop fixtures; with --host the target may be any API, "
        "and the oversell audit is skipped)",
    )
    load.add_argument(
        "--user-classes",
        type=_class_names,
        metavar="A,B",
        help="with --locustfile: only these User classes (default: every one in the file)",
    )
    load.add_argument("--stock", type=_count, help="race: the product's stock (default 5)")
    load.add_argument("--seed", type=int, default=DEFAULT_SEED, help="fixture data seed")


def _target_arguments(parser) -> None:
    """Where the load goes."""
    target = parser.add_argument_group("target")
    target.add_argument("--host", help="an already running server (default: start gunicorn)")
    target.add_argument(
        "--allow-remote", action="store_true", help="allow a --host that is not loopback"
    )
    target.add_argument(
        "--server-workers", type=_positive_int, default=4, help="gunicorn workers (default 4)"
    )


def _verdict_arguments(parser) -> None:
    """Threshold overrides and the baseline."""
    verdict = parser.add_argument_group("verdict")
    verdict.add_argument("--max-p95-ms", type=_number)
    verdict.add_argument("--max-p99-ms", type=_number)
    verdict.add_argument("--max-error-rate", type=_percentage, help="percent, 0 to 100")
    verdict.add_argument("--min-rps", type=_number)
    verdict.add_argument(
        "--max-rss-growth-pct",
        type=_number,
        help="server RSS growth after warm-up, percent (stress: 25; others report it)",
    )
    verdict.add_argument("--compare", type=Path, metavar="BASELINE.json")


def _output_arguments(parser) -> None:
    """Where the reports go."""
    output = parser.add_argument_group("output")
    output.add_argument("--results-dir", type=Path, default=Path("load_test_results"))
    output.add_argument("--json", action="store_true", help="stdout carries only the verdict JSON")
    output.add_argument(
        "--credentials",
        type=Path,
        default=Path(DEFAULT_CREDENTIALS),
        help=f"prepare: where to write tokens and product ids; clean: the file to remove "
        f"(default {DEFAULT_CREDENTIALS})",
    )


def _scale_arguments(parser) -> None:
    """Locust workers, and the web UI of interactive."""
    scale = parser.add_argument_group("scale")
    scale.add_argument("--workers", type=_count, default=0, help="local Locust workers")
    scale.add_argument(
        "--expect-workers",
        type=_count,
        default=0,
        help="wait for this many workers in all (the rest from other machines)",
    )
    scale.add_argument("--master-bind", default="127.0.0.1", help="master's interface")
    scale.add_argument("--master-port", type=_port, default=0, help="default: a free port")
    interactive = parser.add_argument_group("interactive")
    interactive.add_argument("--web-port", type=_listening_port, default=8089)
    interactive.add_argument(
        "--max-users", type=_positive_int, help="interactive: user cap (default 1000)"
    )


def add_arguments(parser) -> None:
    for group in (
        _load_arguments, _target_arguments, _verdict_arguments, _output_arguments,
        _scale_arguments,
    ):  # fmt: skip
        group(parser)
    # Internal: one local worker process of --workers N.
    parser.add_argument("--worker-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--master-host", default="127.0.0.1", help=argparse.SUPPRESS)


# --- the checks between them -------------------------------------------------------------------


def check_workers(scenario: str, options: dict) -> None:
    """--workers with a scenario whose kind runs in one process (race: its barrier)."""
    if not (options["workers"] or options["expect_workers"]):
        return
    if scenario == "all":
        if not all(KINDS[SCENARIOS[name].kind].allows_workers for name in ALL_PARTS):
            raise CannotRun("all includes race, which refuses --workers; run the parts separately.")
    elif scenario in SCENARIOS and not KINDS[SCENARIOS[scenario].kind].allows_workers:
        raise CannotRun(
            f"{scenario} runs in one process (its barrier is one process's); drop --workers."
        )


def check_ports(scenario: str, options: dict) -> None:
    """The ports the run will listen on are free now, before gunicorn starts or anything is
    seeded (the load checks again when it binds them)."""
    if scenario == "interactive" and not port_is_free("127.0.0.1", options["web_port"]):
        raise CannotRun(f"Port {options['web_port']} is busy; choose another with --web-port.")
    port, bind = options["master_port"], options["master_bind"]
    uses_master = options["workers"] or options["expect_workers"]
    if port and uses_master and scenario not in HOUSEKEEPING and not port_is_free(bind, port):
        raise CannotRun(
            f"Cannot listen on {bind}:{port} for the Locust master (busy, or not an address of "
            "this machine); choose another --master-port or --master-bind."
        )


def worker_command_for(locustfile: Locustfile | None) -> Callable[[int], list[str]]:
    """How the master starts a local worker process on its port."""
    manage_py = str(settings.BASE_DIR / "manage.py")
    python = sys.executable

    def worker_command(port: int) -> list[str]:
        command = [python, manage_py, "loadtest", "--worker-process", "--master-port", str(port)]
        if locustfile is not None:  # the workers run the same classes of the same file
            command += ["--locustfile", str(locustfile.path)]
            if locustfile.class_names:
                command += ["--user-classes", ",".join(locustfile.class_names)]
        return command

    return worker_command


def _overrides(options: dict) -> Overrides:
    return Overrides(
        **{
            name: options[name]
            for name in (
                "users", "spawn_rate", "run_time", "think_time", "stock", "max_users",
                "max_p95_ms", "max_p99_ms", "max_error_rate", "min_rps", "max_rss_growth_pct",
            )
        }
    )  # fmt: skip


def build(scenario: str, options: dict) -> Options:
    """The run's Options from the parsed values (a dict, as Django hands them over); CannotRun
    with one line for what cannot run together."""
    check_workers(scenario, options)
    check_ports(scenario, options)
    locustfile = locustfile_of(options)
    if locustfile is not None:
        _check_locustfile_run(scenario, locustfile, options)
    if options["host"] is not None:
        normalise_host(options["host"], allow_remote=options["allow_remote"])
    baseline = None
    if options["compare"] is not None:
        try:
            baseline = load_baseline(options["compare"])
        except ValueError as exc:
            raise CannotRun(f"--compare: {exc}.") from None
    return Options(
        scenario=scenario,
        overrides=_overrides(options),
        **{
            name: options[name]
            for name in (
                "host", "allow_remote", "results_dir", "workers", "expect_workers",
                "master_bind", "master_port", "seed", "compare", "web_port", "server_workers",
            )
        },
        baseline=baseline,
        worker_command=worker_command_for(locustfile),
        locustfile=locustfile,
    )  # fmt: skip
