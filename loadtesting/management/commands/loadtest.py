"""`manage.py loadtest <scenario>`: options in, exit status out; the work is in loadtesting.*.

Exit status: 0 passed, 1 a threshold / the recovery probe / a --compare regression failed,
2 oversell or a broken stock invariant, 3 the run could not be made (including bad options:
argparse's own 2 is overridden), 130 Ctrl-C before any load ran.
"""

import json
import signal
import sys

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import DatabaseError

from loadtesting import harness, options
from loadtesting.console import Console
from loadtesting.exit_codes import COULD_NOT_RUN, INTERRUPTED, OVERSOLD, CannotRun, Interrupted
from loadtesting.fixtures import fixture_summary
from loadtesting.scenarios import HOUSEKEEPING, SCENARIO_NAMES


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def final_line(verdict: dict) -> str:
    """Why a finished run exits non-zero, and where its verdict is."""
    code = verdict["exit_code"]
    if not verdict.get("complete", True):
        why = "the run is incomplete (stopped before its planned end), so it cannot pass"
    elif code == OVERSOLD:
        why = "oversell or a broken stock invariant"
    elif "parts" in verdict:  # all
        failed = [part["scenario"] for part in verdict["parts"] if not part["pass"]]
        why = "failed: " + ", ".join(failed + [f"{name} (skipped)" for name in verdict["skipped"]])
    else:
        failed = [check for check in verdict["checks"] if not check["pass"]]
        why = f"{len(failed)} check(s) failed"
    return f"Exit status {code}: {why}. The verdict is in {verdict['reports']['json']}."


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
        options.add_arguments(parser)

    def handle(self, *args, **parsed):
        if parsed["worker_process"]:
            return self._worker(parsed)
        scenario = parsed["scenario"]
        if scenario is None:
            raise CommandError(
                "Name a scenario: " + ", ".join(SCENARIO_NAMES + HOUSEKEEPING) + ".",
                returncode=COULD_NOT_RUN,
            )
        signal.signal(signal.SIGTERM, _raise_interrupt)
        console_stream = OutputWrapper(sys.stderr) if parsed["json"] else self.stdout
        console = Console(console_stream, self.style)
        try:
            if scenario == "prepare":
                return self._prepare(parsed, console)
            if scenario == "clean":
                return self._clean(parsed, console)
            verdict = harness.Harness(options.build(scenario, parsed), console).run()
        except CannotRun as exc:
            raise CommandError(str(exc), returncode=COULD_NOT_RUN) from None
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"Database error: {reason}", returncode=COULD_NOT_RUN) from None
        except (Interrupted, KeyboardInterrupt):
            return self._exit("Interrupted before any load ran.", INTERRUPTED)
        if parsed["json"]:
            self.stdout.write(json.dumps(verdict, default=str))
        if verdict["exit_code"]:
            self._exit(final_line(verdict), verdict["exit_code"])

    def _exit(self, line: str, code: int) -> None:
        """The run's last line, a plain statement on stderr (not Django's "CommandError: …",
        which reads like a crash), and its exit status."""
        if not getattr(self, "_called_from_command_line", False):
            raise CommandError(line, returncode=code)
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
        sys.exit(code)

    def _worker(self, parsed: dict) -> None:
        from loadtesting.load.workers import run_worker  # imports locust

        try:
            locustfile = options.locustfile_of(parsed)
            run_worker(parsed["master_host"], parsed["master_port"], locustfile)
        except CannotRun as exc:
            raise CommandError(str(exc), returncode=COULD_NOT_RUN) from None

    def _prepare(self, parsed: dict, console: Console) -> None:
        path = parsed["credentials"]
        payload = harness.prepare(
            seed=parsed["seed"], customers=parsed["users"] or 0, credentials=path
        )
        console.write(f"Fixtures: {fixture_summary(payload)}", "SUCCESS")
        console.write(f"Credentials: {path} (tokens: readable by you only)")
        console.write(
            f"Plain Locust: LOADTEST_CREDENTIALS={path} "
            f"locust -f loadtesting/locustfile.py --host http://127.0.0.1:8000"
        )

    def _clean(self, parsed: dict, console: Console) -> None:
        path = parsed["credentials"]
        removed = harness.clean(credentials=path)
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
        if removed["credentials"] == "removed":
            console.write(f"Removed the credentials file {path}.", "SUCCESS")
        elif removed["credentials"] == "absent":
            console.write(
                f"No credentials file at {path} (if prepare wrote one elsewhere, "
                "give clean the same --credentials PATH)."
            )
        else:
            console.write(
                f"Kept {path}: it is not a credentials file that prepare wrote.", "WARNING"
            )
