"""The run history: `<results dir>/index.html`, rebuilt from every verdict JSON in the directory.

Every run newest first (scenario, start, PASS/FAIL, req/s, p95, error rate, stock-outs, audit),
each linking to its report page, and per scenario a trend chart of req/s and p95 across runs.
A pure function of the JSON files: nothing else in the directory is read.
"""

import json
from html import escape
from pathlib import Path

from loadtesting.pages import assets

INDEX = "index.html"


def _is_verdict(data) -> bool:
    return isinstance(data, dict) and "scenario" in data and "exit_code" in data


def load_runs(results_dir: Path) -> list[dict]:
    """One row per verdict (an `all` verdict's parts are their own files), newest first."""
    runs = []
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name.endswith("_samples.json"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not _is_verdict(data):
            continue
        total = data.get("total") or {}
        audit = data.get("audit") or {}
        if data.get("scenario") == "all":
            audit_text = "see the parts"
        elif "skipped" in audit:
            audit_text = "skipped"
        elif audit:
            audit_text = "holds" if audit.get("ok") else "BROKEN"
        else:
            audit_text = "–"
        page = path.with_suffix(".html")
        runs.append(
            {
                "json": path.name,
                "page": page.name if page.exists() else None,
                "scenario": data["scenario"],
                "start": data.get("start") or "",
                "pass": bool(data.get("pass")),
                "exit_code": data.get("exit_code"),
                "rps": total.get("rps"),
                "p95_ms": total.get("p95_ms"),
                "error_rate_pct": total.get("error_rate_pct"),
                "stock_outs": total.get("stock_outs"),
                "audit": audit_text,
                "capacity_users": (data.get("capacity") or {}).get("max_users"),
            }
        )
    runs.sort(key=lambda run: (run["start"], run["json"]), reverse=True)
    return runs


def _cell(value, css: str) -> str:
    if value is None:
        text = "–"
    elif isinstance(value, float):
        text = f"{value:,.1f}"
    else:
        text = str(value)
    return f'<td class="{css}">{escape(text)}</td>'


def render_index(runs: list[dict]) -> str:
    rows = []
    for run in runs:
        link = run["page"] or run["json"]
        result = "PASS" if run["pass"] else "FAIL"
        rows.append(
            f'<tr data-json="{escape(run["json"])}" data-pass="{str(run["pass"]).lower()}">'
            f'<td><a href="{escape(link)}">{escape(run["scenario"])}</a></td>'
            f'<td class="start">{escape(run["start"])}</td>'
            f'<td class="{"ok" if run["pass"] else "bad"}">{result} '
            f"(exit {escape(str(run['exit_code']))})</td>"
            f"{_cell(run['rps'], 'rps')}{_cell(run['p95_ms'], 'p95')}"
            f"{_cell(run['error_rate_pct'], 'errors')}{_cell(run['stock_outs'], 'stockouts')}"
            f"{_cell(run['audit'], 'audit')}</tr>"
        )
    headers = ["scenario", "start", "verdict", "req/s", "p95 ms", "errors %", "stock-outs", "audit"]
    head = "".join(f"<th>{header}</th>" for header in headers)
    scenarios = sorted({run["scenario"] for run in runs if run["rps"] is not None})
    trends = {
        name: [
            {"start": run["start"], "rps": run["rps"], "p95_ms": run["p95_ms"]}
            for run in reversed(runs)
            if run["scenario"] == name and run["rps"] is not None
        ]
        for name in scenarios
    }
    charts = "".join(
        f'<div class="chart" id="trend-{escape(name)}" data-scenario="{escape(name)}"></div>'
        for name in scenarios
    )
    body = (
        '<h1 id="title">Load test runs</h1>'
        f'<p class="meta">{len(runs)} run(s), newest first. '
        "Each scenario links to its report page.</p>"
        f'<table id="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        "<h2>Trends per scenario</h2>"
        + (charts or '<p class="note">No runs with figures yet.</p>')
        + assets.json_script("page-data", {"trends": trends})
    )
    return assets.page("Load test runs", body, "history.js")


def write_index(results_dir: Path) -> Path:
    """Rebuild `index.html` from the verdicts in `results_dir`."""
    path = Path(results_dir) / INDEX
    path.write_text(render_index(load_runs(results_dir)), encoding="utf-8")
    return path
