"""The report files of a run, under one base name `<scenario>_<YYYYmmdd_HHMMSS>`:

`.html` (the harness's own report page, loadtesting.pages), `_samples.json` (what the page plots),
`.json` (the verdict), `.log` (the run's log with the server's and workers' output copied in),
and Locust's own: `_locust.html`, `.csv` (per endpoint), `_history.csv`, `_failures.csv`,
`_exceptions.csv` (written at the end of the load by loadtesting.load.locust_reports).
`index.html` in the results directory is the history of every run, rewritten after each.
"""

import json
import logging
from pathlib import Path

# Locust's reports by key: the suffix after the base name.
LOCUST_FILES = {
    "locust_html": "_locust.html",
    "csv": ".csv",
    "history_csv": "_history.csv",
    "failures_csv": "_failures.csv",
    "exceptions_csv": "_exceptions.csv",
}
# What the console lists, in this order.
PRINTED_REPORTS = (
    "html",
    "locust_html",
    "csv",
    "history_csv",
    "failures_csv",
    "log",
    "json",
    "samples",
    "index",
)


def unique_base(directory: Path, name: str) -> Path:
    base, number = directory / name, 1
    while any(base.with_name(base.name + suffix).exists() for suffix in (".json", ".log")):
        number += 1
        base = directory / f"{name}_{number}"
    return base


def part_files(base: Path, locust_reports: dict) -> dict:
    """Every file of one scenario's report by key."""
    return {
        "html": str(base.with_suffix(".html")),
        **locust_reports,
        "samples": str(base.with_name(base.name + "_samples.json")),
        "index": str(base.with_name("index.html")),
        "log": str(base.with_suffix(".log")),
        "json": str(base.with_suffix(".json")),
    }


def write_json(path: Path, verdict: dict) -> None:
    path.write_text(json.dumps(verdict, indent=2, default=str) + "\n")


class RunLog:
    """The root logger writes to the current run's .log; server and worker output is copied in."""

    def __init__(self, children: Path) -> None:
        self.children = children
        self.children_offset = 0
        self.path: Path | None = None
        self.handler: logging.Handler | None = None
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("loadtest: %(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)
        root.setLevel(logging.INFO)

    def open(self, path: Path) -> None:
        self.close()
        self.path = path
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        logging.getLogger().addHandler(self.handler)

    def copy_children(self, title: str) -> None:
        """Append what the server (and workers) wrote since the last copy."""
        if self.path is None or not self.children.exists():
            return
        with open(self.children, "rb") as source:
            source.seek(self.children_offset)
            chunk = source.read()
            self.children_offset = source.tell()
        if not chunk:
            return
        if self.handler:
            self.handler.flush()
        with open(self.path, "ab") as sink:
            sink.write(f"---- {title} ----\n".encode())
            sink.write(chunk)
            sink.write(f"---- end of {title} ----\n".encode())

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
            self.handler = None
