"""Locust's own reports of one load: its CSVs and its HTML report, under the names docs/loadtest.md
gives them (loadtesting.reports.LOCUST_FILES).

Locust's StatsCSVFileWriter writes the CSVs while the load runs (the history grows every second);
when it stops, the writer's files are closed and the per-endpoint, failures and exceptions CSVs
are written once more in full through StatsCSV's writer methods, so that they hold the final
figures.
"""

import csv
import os
from pathlib import Path

import gevent
from locust.stats import StatsCSV, StatsCSVFileWriter

from loadtesting.load.locust_adapter import PERCENTILES_TO_REPORT, html_report
from loadtesting.reports import LOCUST_FILES


class LocustReports:
    """The CSV writer of one load, and the reports once it has stopped."""

    def __init__(self, environment, base: Path) -> None:
        self.environment = environment
        self.base = base
        self.writer = StatsCSVFileWriter(
            environment, PERCENTILES_TO_REPORT, str(base), full_history=True
        )

    def start(self) -> gevent.Greenlet:
        return gevent.spawn(self.writer.stats_writer)

    def _written(self) -> dict[str, Path]:
        """Where Locust's writer puts each file."""
        return {
            "csv": Path(f"{self.base}_stats.csv"),
            "history_csv": Path(self.writer.stats_history_file_name()),
            "failures_csv": Path(f"{self.base}_failures.csv"),
            "exceptions_csv": Path(f"{self.base}_exceptions.csv"),
        }

    def discard(self) -> None:
        """No load ran: no reports."""
        self.writer.close_files()
        for path in self._written().values():
            path.unlink(missing_ok=True)

    def finish(self) -> dict[str, str]:
        """The final CSVs and the HTML report; their paths by report key."""
        self.writer.close_files()
        written = self._written()
        final = StatsCSV(self.environment, PERCENTILES_TO_REPORT)
        for key, write in (
            ("csv", final.requests_csv),
            ("failures_csv", final.failures_csv),
            ("exceptions_csv", final.exceptions_csv),
        ):
            with open(written[key], "w", newline="") as sink:
                write(csv.writer(sink))
        history = written["history_csv"]
        if history.stat().st_size == 0:  # the writer never ran: the header alone
            with open(history, "w", newline="") as sink:
                csv.writer(sink).writerow(self.writer.stats_history_csv_columns)
        reports = {}
        for key, path in written.items():
            wanted = self.base.with_name(self.base.name + LOCUST_FILES[key])
            if path != wanted:
                os.replace(path, wanted)
            reports[key] = str(wanted)
        html = self.base.with_name(self.base.name + LOCUST_FILES["locust_html"])
        html.write_text(html_report(self.environment), encoding="utf-8")
        return {"locust_html": str(html), **reports}
