"""`interactive`: the run's state as the web UI shows it (running, auditing, done with the
verdict), the hot stock and the stock-outs. No locust or flask import, so the harness's side
(kinds.InteractiveKind) can create it before the load; load.web_ui_shop serves it."""

from dataclasses import dataclass, field
from pathlib import Path

from loadtesting.load.recorder import RECORDER

RUNNING, AUDITING, DONE = "running", "auditing", "done"


@dataclass
class RunState:
    state: str = RUNNING
    live: object = None  # the LiveSampler (hot stock), when the load phase has one
    verdict: dict | None = None
    files: dict = field(default_factory=dict)  # basename -> path of the run's report files
    web_ui: object = None
    url: str = ""
    _argv: object = None  # the web_ui_argv() context held while the UI outlives the load

    def hold_argv(self) -> None:
        """Locust's index page parses sys.argv as Locust options (locust_adapter.web_ui_argv):
        while the UI outlives the load (audit, reports, the verdict), argv stays trimmed."""
        if self._argv is None:
            from loadtesting.load.locust_adapter import web_ui_argv

            self._argv = web_ui_argv()
            self._argv.__enter__()

    def release_argv(self) -> None:
        if self._argv is not None:
            self._argv.__exit__(None, None, None)
            self._argv = None

    def close(self) -> None:
        """Stop the UI (when the load was interrupted, or after the verdict was served)."""
        from loadtesting.load.locust_adapter import web_ui_started

        if self.web_ui is not None and web_ui_started(self.web_ui):
            self.web_ui.stop()
        self.release_argv()

    def hot_stock(self) -> dict:
        stock = getattr(self.live, "stock", None) or {}
        return {sku: points[-1][1] for sku, points in stock.items() if points}

    def status(self, failures: int) -> dict:
        verdict = self.verdict
        return {
            "state": self.state,
            "stock_outs": RECORDER.stock_outs,
            "failures": failures,
            "hot_stock": self.hot_stock(),
            "verdict": verdict,
            "report": (verdict or {}).get("reports", {}).get("html"),
        }

    def rows(self, failures: int) -> list[dict]:
        status = self.status(failures)
        rows = [
            {"figure": "state", "value": status["state"]},
            {"figure": "stock-outs (409 insufficient_stock)", "value": status["stock_outs"]},
            {"figure": "failures", "value": failures},
        ]
        rows += [
            {"figure": f"stock of {sku}", "value": stock}
            for sku, stock in sorted(status["hot_stock"].items())
        ]
        if self.verdict is not None:
            code = self.verdict["exit_code"]
            rows.append(
                {"figure": "verdict", "value": f"{'PASS' if code == 0 else 'FAIL'} (exit {code})"}
            )
            rows.append({"figure": "report page", "value": "/harness/report"})
        return rows

    def done(self, verdict: dict) -> None:
        self.verdict = verdict
        self.files = {
            Path(path).name: Path(path)
            for key, path in verdict.get("reports", {}).items()
            if key != "index" and path
        }
        self.state = DONE
