"""`interactive`: the harness's page inside Locust's web UI (/harness), a pure function of the
run's state: running, auditing, or done with the verdict and a link to the report page."""

from html import escape

from loadtesting.pages import assets
from loadtesting.pages.report import banner


def render_status(status: dict) -> str:
    """status: {"state": "running" | "auditing" | "done", "stock_outs": int, "failures": int,
    "hot_stock": {sku: stock}, "verdict": dict | None, "report": path | None}."""
    state = status.get("state", "running")
    rows = [
        ("state", state),
        ("stock-outs (409 insufficient_stock, not failures)", status.get("stock_outs", 0)),
        ("failures", status.get("failures", 0)),
        *((f"stock of {sku}", stock) for sku, stock in sorted(status.get("hot_stock", {}).items())),
    ]
    table = "".join(
        f'<tr data-figure="{escape(str(name))}"><td>{escape(str(name))}</td>'
        f"<td>{escape(str(value))}</td></tr>"
        for name, value in rows
    )
    parts = ['<h1 id="title">Load test: interactive</h1>']
    verdict = status.get("verdict")
    if state == "done" and verdict is not None:
        parts.append(banner(verdict))
        parts.append(
            f'<p id="report">The report page: <a href="/harness/report">{escape(status["report"])}'
            "</a> (and the run history beside it). Quit with Ctrl-C in the terminal.</p>"
        )
        checks = "".join(
            f'<li data-pass="{str(bool(check["pass"])).lower()}">'
            f"[{'ok' if check['pass'] else 'fail'}] {escape(check['label'])}</li>"
            for check in verdict.get("checks", ())
        )
        parts.append(f'<ul id="checks">{checks}</ul>')
    elif state == "auditing":
        parts.append('<p id="report">The test has stopped: auditing and writing the reports…</p>')
    else:
        parts.append(
            '<p id="report">Start and stop the test in <a href="/">Locust\'s UI</a>; the audit and '
            "the reports follow, and this page then shows the verdict.</p>"
        )
    parts.append(f'<table id="figures-table"><tbody>{table}</tbody></table>')
    refresh = "" if state == "done" else '<meta http-equiv="refresh" content="2">'
    return assets.page("Load test: interactive", refresh + "".join(parts), "ui.js")
