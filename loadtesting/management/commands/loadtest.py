"""`manage.py loadtest <scenario>`: options in, exit status out; the work is in loadtesting.*.

Exit status: 0 passed, 1 a threshold / the recovery probe / a --compare regression failed,
2 oversell or a broken stock invariant, 3 the run could not be made (including bad options:
argparse's own 2 is overridden), 130 Ctrl-C before any load ran.
"""

import argparse
import json
import signal
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DatabaseError

from loadtesting import harness, reports
from loadtesting.exit_codes import COULD_NOT_RUN, INTERRUPTED, CannotRun, Interrupted
from loadtesting.fixtures import DEFAULT_SEED, fixture_summary
from loadtesting.scenarios import (
    HOUSEKEEPING,
    RACE,
    SCENARIO_NAMES,
    Locustfile,
    Overrides,
    parse_timespan,
)
from loadtesting.target import normalise_host

DEFAULT_CREDENTIALS = "loadtest_credentials.json"


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


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value < 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
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


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _locustfile(options: dict) -> Locustfile | None:
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


class Command(BaseCommand):
    help = (
        "Load-test the shop with Locust: quick, standard, race, stress, interactive, all, custom; "
        "`custom --locustfile PATH` runs your own Locust users against any --host. "
        "`prepare` seeds fixtures and writes a credentials file, `clean` removes them. "
        "Exit 0 pass, 1 threshold failed, 2 oversell, 3 could not run, 130 interrupted."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str):
            # argparse would print the usage and exit 2; the contract is one line and exit 3.
            if getattr(parser, "called_from_command_line", False):
                sys.stderr.write(f"loadtest: error: {message}\n")
                sys.exit(COULD_NOT_RUN)
            raise CommandError(f"Error: {message}", returncode=COULD_NOT_RUN)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "scenario",
            nargs="?",
            choices=SCENARIO_NAMES + HOUSEKEEPING,
            help="quick | standard | race | stress | interactive | all | custom | prepare | clean",
        )
        load = parser.add_argument_group("load")
        load.add_argument("--users", type=_positive_int, help="simulated users (race: racers)")
        load.add_argument("--spawn-rate", type=_positive_number, help="users started per second")
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
        target = parser.add_argument_group("target")
        target.add_argument("--host", help="an already running server (default: start gunicorn)")
        target.add_argument(
            "--allow-remote", action="store_true", help="allow a --host that is not loopback"
        )
        target.add_argument(
            "--server-workers", type=_positive_int, default=4, help="gunicorn workers (default 4)"
        )
        verdict = parser.add_argument_group("verdict")
        verdict.add_argument("--max-p95-ms", type=_number)
        verdict.add_argument("--max-p99-ms", type=_number)
        verdict.add_argument("--max-error-rate", type=_number, help="percent")
        verdict.add_argument("--min-rps", type=_number)
        verdict.add_argument(
            "--max-rss-growth-pct",
            type=_number,
            help="server RSS growth after warm-up, percent (stress: 25; others report it)",
        )
        verdict.add_argument("--compare", type=Path, metavar="BASELINE.json")
        output = parser.add_argument_group("output")
        output.add_argument("--results-dir", type=Path, default=Path("load_test_results"))
        output.add_argument(
            "--json", action="store_true", help="stdout carries only the verdict JSON"
        )
        output.add_argument(
            "--credentials",
            type=Path,
            default=Path(DEFAULT_CREDENTIALS),
            help=f"prepare: where to write tokens and product ids (default {DEFAULT_CREDENTIALS})",
        )
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
        interactive.add_argument("--web-port", type=_port, default=8089)
        interactive.add_argument(
            "--max-users", type=_positive_int, help="interactive: user cap (default 1000)"
        )
        # Internal: one local worker process of --workers N.
        parser.add_argument("--worker-process", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--master-host", default="127.0.0.1", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["worker_process"]:
            from loadtesting.runner import run_worker

            try:
                run_worker(options["master_host"], options["master_port"], _locustfile(options))
            except CannotRun as exc:
                raise CommandError(str(exc), returncode=COULD_NOT_RUN) from None
            return
        scenario = options["scenario"]
        if scenario is None:
            raise CommandError(
                "Name a scenario: " + ", ".join(SCENARIO_NAMES + HOUSEKEEPING) + ".",
                returncode=COULD_NOT_RUN,
            )
        signal.signal(signal.SIGTERM, _raise_interrupt)
        console_stream = OutputWrapper(sys.stderr) if options["json"] else self.stdout
        console = harness.Console(console_stream, self.style)
        try:
            if scenario == "prepare":
                return self._prepare(options, console)
            if scenario == "clean":
                return self._clean(console)
            verdict = harness.Harness(self._options(scenario, options), console).run()
        except CannotRun as exc:
            raise CommandError(str(exc), returncode=COULD_NOT_RUN) from None
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"Database error: {reason}", returncode=COULD_NOT_RUN) from None
        except (Interrupted, KeyboardInterrupt):
            raise CommandError("Interrupted before any load ran.", returncode=INTERRUPTED) from None
        if options["json"]:
            self.stdout.write(json.dumps(verdict, default=str))
        if verdict["exit_code"]:
            raise CommandError(
                f"Verdict: FAIL (exit {verdict['exit_code']}); see {verdict['reports']['json']}",
                returncode=verdict["exit_code"],
            )

    def _options(self, scenario: str, options: dict) -> harness.Options:
        if (options["workers"] or options["expect_workers"]) and scenario == RACE:
            raise CannotRun(
                "race runs in one process (its barrier is one process's); drop --workers."
            )
        if (options["workers"] or options["expect_workers"]) and scenario == "all":
            raise CannotRun("all includes race, which refuses --workers; run the parts separately.")
        locustfile = _locustfile(options)
        if locustfile is not None:
            _check_locustfile_run(scenario, locustfile, options)
        if options["host"] is not None:
            normalise_host(options["host"], allow_remote=options["allow_remote"])
        baseline = None
        if options["compare"] is not None:
            try:
                baseline = reports.load_baseline(options["compare"])
            except ValueError as exc:
                raise CannotRun(f"--compare: {exc}.") from None
        manage_py = str(settings.BASE_DIR / "manage.py")
        python = sys.executable

        def worker_command(port: int) -> list[str]:
            command = [python, manage_py, "loadtest", "--worker-process"]
            command += ["--master-port", str(port)]
            if locustfile is not None:  # the workers run the same classes of the same file
                command += ["--locustfile", str(locustfile.path)]
                if locustfile.class_names:
                    command += ["--user-classes", ",".join(locustfile.class_names)]
            return command

        return harness.Options(
            scenario=scenario,
            overrides=Overrides(
                users=options["users"],
                spawn_rate=options["spawn_rate"],
                run_time=options["run_time"],
                think_time=options["think_time"],
                stock=options["stock"],
                max_users=options["max_users"],
                max_p95_ms=options["max_p95_ms"],
                max_p99_ms=options["max_p99_ms"],
                max_error_rate=options["max_error_rate"],
                min_rps=options["min_rps"],
                max_rss_growth_pct=options["max_rss_growth_pct"],
            ),
            host=options["host"],
            allow_remote=options["allow_remote"],
            results_dir=options["results_dir"],
            workers=options["workers"],
            expect_workers=options["expect_workers"],
            master_bind=options["master_bind"],
            master_port=options["master_port"],
            seed=options["seed"],
            compare=options["compare"],
            baseline=baseline,
            web_port=options["web_port"],
            server_workers=options["server_workers"],
            worker_command=worker_command,
            locustfile=locustfile,
        )

    def _prepare(self, options: dict, console: harness.Console) -> None:
        path = options["credentials"]
        payload = harness.prepare(
            seed=options["seed"], customers=options["users"] or 0, credentials=path
        )
        console.write(f"Fixtures: {fixture_summary(payload)}", "SUCCESS")
        console.write(f"Credentials: {path} (tokens: readable by you only)")
        console.write(
            f"Plain Locust: LOADTEST_CREDENTIALS={path} "
            f"locust -f loadtesting/locustfile.py --host http://127.0.0.1:8000"
        )

    def _clean(self, console: harness.Console) -> None:
        removed = harness.clean()
        console.write(
            f"Removed {removed['orders']} orders ({removed['order_lines']} lines), "
            f"{removed['products']} products and {removed['users']} users with their tokens.",
            "SUCCESS",
        )
        if removed["kept_orders"] or removed["kept_products"] or removed["kept_users"]:
            console.write(
                f"Kept {removed['kept_orders']} orders that also hold products outside the "
                f"fixtures, {removed['kept_products']} fixture products and "
                f"{removed['kept_users']} fixture users they still reference.",
                "WARNING",
            )
