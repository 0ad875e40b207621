"""One `manage.py loadtest <scenario>` run, phase by phase, in the order a run happens:

    options → target → fixtures → load → audit → verdict → reports and console

`all` runs quick → standard → race → stress against one target and combines the verdicts. The
Harness only sequences the phases; what a kind of scenario does differently is its kind's
(loadtesting.kinds). The ORM is used only outside the load (fixtures before, audit after); locust
is imported only when a load is about to run (loadtesting.load.phase), so `prepare`, `clean` and
option errors never load it.
"""

import logging
import os
from datetime import datetime
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from loadtesting import console, fixtures, reports, run_pages
from loadtesting.exit_codes import CannotRun, Interrupted
from loadtesting.kinds import Part, kind_for
from loadtesting.options import Options
from loadtesting.reports import RunLog, unique_base
from loadtesting.scenarios import ALL_PARTS, resolve
from loadtesting.target import Server, Target, open_target
from loadtesting.verdict import document

logger = logging.getLogger("loadtest")


class Harness:
    def __init__(self, options: Options, out: console.Console) -> None:
        self.options = options
        self.out = out
        self.results_dir = options.results_dir
        # where the server and the workers write; copied into each part's log
        self.children = self.results_dir / f".children-{os.getpid()}.log"
        self.server: Server | None = None
        self.log: RunLog | None = None

    def run(self) -> dict:
        """The verdict (one scenario) or the combined verdict (`all`). Raises CannotRun, or
        Interrupted when Ctrl-C came before any load ran."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        names = ALL_PARTS if self.options.scenario == "all" else (self.options.scenario,)
        bases = {name: unique_base(self.results_dir, f"{name}_{stamp}") for name in names}
        self.log = RunLog(self.children)
        self.log.open(bases[names[0]].with_suffix(".log"))
        self.out.mirror = True
        verdicts: list[dict] = []
        try:
            self._run_parts(names, bases, verdicts)
        finally:
            if self.server is not None:
                self.server.stop()
            self.log.copy_children("server output")
            self.log.close()
            self.children.unlink(missing_ok=True)
        if self.options.scenario != "all":
            return verdicts[0]
        return self._combined(verdicts, self.results_dir / f"all_{stamp}.json")

    def _run_parts(self, names: tuple[str, ...], bases: dict, verdicts: list[dict]) -> None:
        try:
            target = self._target(names[0])
            for name in names:
                if name != names[0]:
                    self.log.open(bases[name].with_suffix(".log"))
                verdict = self._part(name, bases[name], target)
                verdicts.append(verdict)
                if verdict["interrupted"]:
                    break
        except KeyboardInterrupt:
            if not verdicts:
                logger.info("interrupted before any load ran")
                raise Interrupted() from None
            self.out.write("Interrupted: the remaining parts are skipped.", "WARNING")
        except CannotRun as exc:
            logger.info("the run could not be made: %s", exc)
            raise

    def _combined(self, verdicts: list[dict], path: Path) -> dict:
        combined = document.combined(verdicts, path)
        reports.write_json(path, combined)
        run_pages.write_index(self.results_dir)
        console.print_combined(self.out, combined)
        return combined

    def _resolve(self, name: str):
        scenario = resolve(name, self.options.overrides, part_of_all=self.options.scenario == "all")
        return scenario, kind_for(scenario, self.options.locustfile)

    # --- phase: target ------------------------------------------------------------------------

    def _target(self, first: str) -> Target:
        if self.options.host is None:
            self.server = Server(output=self.children, workers=self.options.server_workers)
        _, kind = self._resolve(first)
        try:
            return open_target(
                self.options, any_api=kind.any_api_target, server=self.server, out=self.out
            )
        except CannotRun:
            self.log.copy_children("server output")
            raise

    # --- one scenario: fixtures → load → audit → verdict → reports ----------------------------

    def _part(self, name: str, base: Path, target: Target) -> dict:
        from loadtesting.load import phase  # the only way locust enters the process

        scenario, kind = self._resolve(name)
        part = Part(scenario, kind, base, target)
        self.out.write("")
        self.out.heading(f"== {name}: {kind.describe(scenario)}")
        kind.prepare(self, part)
        phase.load(self, part)
        kind.after_load(self, part)
        connections.close_all()
        files = reports.part_files(base, part.result.reports)
        verdict = document.build(part, self.options, files)
        console.print_verdict(self.out, verdict, stock_outs=kind.count_stock_outs)
        reports.write_json(base.with_suffix(".json"), verdict)
        run_pages.write(part, verdict)
        self.log.copy_children("server output")
        kind.after_report(self, part, verdict)
        return verdict


def prepare(*, seed: int, customers: int, credentials: Path) -> dict:
    call_command("migrate", interactive=False, verbosity=0)
    payload = fixtures.seed(seed=seed, customers=customers)
    fixtures.write_credentials(credentials, payload)
    return payload


def clean(*, credentials: Path) -> dict:
    removed = fixtures.clean()
    removed["credentials"] = fixtures.remove_credentials(credentials)
    return removed
